package ratelimit

import (
	"context"
	"sync"
	"time"
)

// memStore keeps the counters in process memory: the same check-and-count as the
// Lua script, under a mutex. It is correct for one process only, which is what the
// embedded default runs; anything with replicas must use Redis.
type memStore struct {
	now func() time.Time

	mu    sync.Mutex
	slots map[string]*slot
	swept int64 // window index of the last sweep
}

// slot is one scope's counters, last written in window idx.
type slot struct {
	idx int64
	c   counts
}

func newMemStore(now func() time.Time) *memStore {
	return &memStore{now: now, slots: map[string]*slot{}}
}

func (s *memStore) admit(_ context.Context, scopes []scope, cs []counts) (int64, bool, error) {
	now := s.now().UnixMilli()
	idx, e := now/window, now%window
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(idx)
	ok := true
	for i, sc := range scopes {
		c := s.counts(sc.key, idx)
		cs[i] = c
		if sc.rpm > 0 && !requestFits(sc.rpm, c.req, c.reqPrev, e) {
			ok = false
		}
		if sc.tpm > 0 && !tokensFit(sc.tpm, c.tok, c.tokPrev, e) {
			ok = false
		}
	}
	if !ok {
		return now, false, nil
	}
	for i, sc := range scopes {
		if sc.rpm > 0 {
			s.slot(sc.key, idx).c.req++
			cs[i].req++
		}
	}
	return now, true, nil
}

func (s *memStore) addTokens(_ context.Context, scopes []scope, at, tokens int64) error {
	idx := at / window
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range scopes {
		sl := s.slot(sc.key, idx)
		switch {
		case sl.idx == idx:
			sl.c.tok += tokens
		case sl.idx == idx+1: // a newer request already moved the slot on
			sl.c.tokPrev += tokens
		}
	}
	return nil
}

// counts returns key's counters in window idx without creating a slot.
func (s *memStore) counts(key string, idx int64) counts {
	sl := s.slots[key]
	if sl == nil {
		return counts{}
	}
	if sl.idx < idx {
		sl.c, sl.idx = sl.c.roll(sl.idx, idx), idx
	}
	return sl.c
}

// slot returns key's slot rolled to window idx (never back), creating it.
func (s *memStore) slot(key string, idx int64) *slot {
	sl := s.slots[key]
	if sl == nil {
		sl = &slot{idx: idx}
		s.slots[key] = sl
	}
	if sl.idx < idx {
		sl.c, sl.idx = sl.c.roll(sl.idx, idx), idx
	}
	return sl
}

// sweep forgets, once per window, the slots no window can see any more, so memory
// stays bounded by the scopes active in the last two minutes.
func (s *memStore) sweep(idx int64) {
	if idx == s.swept {
		return
	}
	s.swept = idx
	for k, sl := range s.slots {
		if sl.idx < idx-1 {
			delete(s.slots, k)
		}
	}
}
