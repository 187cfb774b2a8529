package tenantcfg

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"spass/shared/config"
	"spass/shared/store"
)

// Two Services on one database stand for two gateway processes: a write through
// one reaches the other only through its cache's expiry.
func twoProcesses(t *testing.T) (a, b *Service) {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "spass.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, p := range []**Service{&a, &b} {
		if *p, err = New(&config.Config{}, func(string) string { return "" }, db); err != nil {
			t.Fatal(err)
		}
		(*p).ttl = time.Hour // the tests age entries by hand
	}
	return a, b
}

func markup(t *testing.T, s *Service) float64 {
	t.Helper()
	eff, err := s.Effective(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	return eff.Float(MarkupPercent)
}

func setMarkup(t *testing.T, s *Service, v string) {
	t.Helper()
	if err := s.Set(context.Background(), "acme", map[string]json.RawMessage{MarkupPercent: json.RawMessage(v)}, "test"); err != nil {
		t.Fatal(err)
	}
}

// age makes s's cached entry for acme look d old.
func age(s *Service, d time.Duration) {
	s.mu.Lock()
	c := s.cache["acme"]
	c.at = time.Now().Add(-d)
	s.cache["acme"] = c
	s.mu.Unlock()
}

func TestWriteThroughThisProcessShowsAtOnce(t *testing.T) {
	a, _ := twoProcesses(t)
	markup(t, a) // cached
	setMarkup(t, a, "12")
	if got := markup(t, a); got != 12 {
		t.Fatalf("markup %v right after this process wrote 12", got)
	}
}

// TestStaleEntryIsServedWhileItRefreshes: past half the TTL the request gets the
// cached value at once and a background load brings the other process's write.
func TestStaleEntryIsServedWhileItRefreshes(t *testing.T) {
	a, b := twoProcesses(t)
	if got := markup(t, b); got != 0 {
		t.Fatalf("default markup %v", got)
	}
	setMarkup(t, a, "7")
	age(b, b.ttl/2+time.Minute)
	if got := markup(t, b); got != 0 {
		t.Fatalf("markup %v: the stale entry should be served while it refreshes", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for markup(t, b) != 7 {
		if time.Now().After(deadline) {
			t.Fatal("the background refresh never brought the other process's write")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestExpiredEntryIsLoadedByTheCaller: past the TTL nothing stale is served.
func TestExpiredEntryIsLoadedByTheCaller(t *testing.T) {
	a, b := twoProcesses(t)
	markup(t, b)
	setMarkup(t, a, "9")
	age(b, b.ttl+time.Minute)
	if got := markup(t, b); got != 9 {
		t.Fatalf("markup %v past the TTL, want the other process's 9", got)
	}
}

// TestLoadOlderThanAWriteIsNotCached: a load that read the database before this
// process wrote must not put the old value back in the cache.
func TestLoadOlderThanAWriteIsNotCached(t *testing.T) {
	a, _ := twoProcesses(t)
	a.mu.Lock()
	before := a.version
	a.mu.Unlock()
	setMarkup(t, a, "5") // invalidates
	if _, err := a.load(context.Background(), "acme", before); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	_, cached := a.cache["acme"]
	a.mu.Unlock()
	if cached {
		t.Fatal("a load that began before the write was cached")
	}
}
