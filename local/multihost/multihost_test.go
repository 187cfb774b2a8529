// Package multihost runs the gateway as several hosts: three gateway processes
// and one workers process on one PostgreSQL database and one Redis, each gateway
// with a data dir (and ledger journal) of its own, as on separate machines. The
// package has only tests.
package multihost

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"spass/local/pgtest"
	"spass/local/proctest"
	"spass/local/redistest"
	"spass/shared/store"
)

// redisDB is this package's Redis database (see local/redistest).
const redisDB = 7

// TestThreeGatewaysShareOneStore: traffic spread over three gateways reaches all
// three and leaves exactly one ledger row per answered request, also across a
// gateway killed with SIGKILL mid-traffic and restarted on its data dir; a rate
// limit holds across the hosts; a conversation begun on one host continues on
// another; a tenant setting written on one host shows on the others within the
// settings TTL; a cached answer on one host is a hit on another.
func TestThreeGatewaysShareOneStore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs four processes")
	}
	redistest.Open(t, redisDB)
	dsn := pgtest.URL(t)
	c := newCluster(t, dsn, fmt.Sprintf("redis://127.0.0.1:6379/%d", redisDB))
	c.env = append(c.env, "SPASS_LOG_LEVEL=warn")
	c.startGateways(3)
	c.startWorkers()
	gw := c.gateways
	ctx := context.Background()

	t.Run("a conversation continues on another host", func(t *testing.T) {
		var first struct {
			ID string `json:"conversation_id"`
		}
		status, body := call(t, gw[0], "POST", "/c1/chat", userToken, `{"message": "My name is Ada."}`)
		if status != 200 || json.Unmarshal(body, &first) != nil || first.ID == "" {
			t.Fatalf("first turn on host 0: %d %s", status, body)
		}
		status, body = call(t, gw[1], "POST", "/c1/chat", userToken, `{"conversation_id": "`+first.ID+`", "message": "What is my name?"}`)
		if status != 200 {
			t.Fatalf("second turn on host 1: %d %s", status, body)
		}
		var conv struct {
			Data []struct {
				Message struct {
					Role    string `json:"role"`
					Content string `json:"content"`
				} `json:"message"`
			} `json:"data"`
		}
		status, body = call(t, gw[2], "GET", "/c1/conversations/"+first.ID+"?limit=50", userToken, "")
		if status != 200 || json.Unmarshal(body, &conv) != nil || len(conv.Data) != 4 || conv.Data[2].Message.Content != "What is my name?" {
			t.Fatalf("conversation read on host 2: %d %s, want both turns (4 messages)", status, body)
		}
	})

	t.Run("a RAG index written on one host is indexed by the workers and searched on another", func(t *testing.T) {
		if status, body := call(t, gw[0], "POST", "/a1/rag/indices", adminToken, `{"name": "handbook"}`); status != 201 {
			t.Fatalf("create the index on host 0: %d %s", status, body)
		}
		doc := `{"id": "relay", "title": "Orion relay", "content_type": "text/markdown",
			"content": "# Setup\n\nThe Orion relay listens on port 8443.\n\n# Errors\n\nORN-4471 means the upstream refused the TLS handshake."}`
		if status, body := call(t, gw[1], "POST", "/a1/rag/indices/handbook/documents", adminToken, doc); status != 202 {
			t.Fatalf("add the document on host 1: %d %s", status, body)
		}
		// The rag:index job runs on the workers process (Redis queue); the bound
		// only ends a failure.
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			_, body := call(t, gw[2], "GET", "/a1/rag/indices/handbook/documents/relay", adminToken, "")
			if strings.Contains(string(body), `"status":"indexed"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the document was never indexed: %s", body)
			}
		}
		for _, mode := range []string{"keyword", "hybrid"} {
			status, body := call(t, gw[2], "POST", "/a1/rag/indices/handbook/query", adminToken, `{"query": "which port does the relay listen on?", "mode": "`+mode+`"}`)
			if status != 200 || !strings.Contains(string(body), `"document_id":"relay"`) {
				t.Errorf("%s query on host 2: %d %s", mode, status, body)
			}
		}
	})

	t.Run("a rate limit holds across hosts", func(t *testing.T) {
		ok, limited := 0, 0
		for i := range 3 * limitRPM {
			status, body := call(t, gw[i%3], "POST", "/v1/chat/completions", limitedToken, chatBody(false, 0))
			switch status {
			case 200:
				ok++
			case 429:
				limited++
			default:
				t.Fatalf("status %d %s", status, body)
			}
		}
		// One process's own count would let 3*limitRPM through. The limit is a
		// sliding minute approximated from two fixed windows: a burst that
		// straddles a window boundary may get one more.
		if ok < limitRPM || ok > limitRPM+1 || limited != 3*limitRPM-ok {
			t.Fatalf("%d answered and %d limited of %d over three hosts, want %d answered", ok, limited, 3*limitRPM, limitRPM)
		}
	})

	t.Run("settings and the response cache are shared", func(t *testing.T) {
		status, body := call(t, gw[0], "PUT", "/v1/tenant/config", adminToken, `{"cache.enabled": true}`)
		if status != 200 {
			t.Fatalf("PUT /v1/tenant/config: %d %s", status, body)
		}
		// Settings are cached per process for two seconds (docs/deployment.md):
		// each host sees the change within that; the bound only ends a failure.
		seed := time.Now().UnixNano()%1_000_000_000 + 1
		cacheHeader := func(h *host) string {
			deadline := time.Now().Add(20 * time.Second)
			for {
				resp := send(t, h, "POST", "/v1/chat/completions", userToken, chatBody(false, seed))
				resp.Body.Close()
				if got := resp.Header.Get("SPASS-Cache"); got != "" {
					return got
				}
				if time.Now().After(deadline) {
					t.Fatalf("host %s never saw cache.enabled written on host 0", h.addr)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		if got := cacheHeader(gw[1]); got != "miss" {
			t.Fatalf("first cacheable request on host 1: SPASS-Cache %q, want miss", got)
		}
		if got := cacheHeader(gw[2]); got != "hit" {
			t.Fatalf("the same request on host 2: SPASS-Cache %q, want hit (one cache in Redis)", got)
		}
	})

	// Traffic over the three hosts; host 1 is killed with SIGKILL in the middle
	// and restarted on its data dir, which replays its journal into PostgreSQL.
	var answered sync.Map // request id -> host
	var perHost [3]atomic.Int64
	var count atomic.Int64
	trafficCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := 0; trafficCtx.Err() == nil; i++ {
				n := (w + i) % 3
				if id, ok := proctest.Chat(trafficCtx, gw[n].addr, userToken, i%2 == 0); ok {
					answered.Store(id, n)
					perHost[n].Add(1)
					count.Add(1)
				}
			}
		})
	}
	waitCount(t, &count, 150)
	gw[1].kill()
	waitCount(t, &count, count.Load()+60) // the others carry on
	c.start(gw[1])
	waitCount(t, &count, count.Load()+60)
	stop()
	wg.Wait()
	for _, h := range gw {
		h.stop()
	}
	for n := range perHost {
		if perHost[n].Load() == 0 {
			t.Errorf("host %d answered nothing: the traffic was not spread", n)
		}
	}

	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.LedgerRows(ctx, "acme", 0, time.Now().Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	billed := map[string]int{}
	for _, r := range rows {
		billed[r.RequestID]++
		if billed[r.RequestID] > 1 {
			t.Fatalf("request %s billed twice", r.RequestID)
		}
	}
	missing := 0
	answered.Range(func(k, v any) bool {
		if billed[k.(string)] != 1 {
			missing++
			t.Logf("answered by host %d, no ledger row: %s", v, k)
		}
		return true
	})
	if missing > 0 {
		t.Fatalf("%d of %d answered requests have no ledger row", missing, count.Load())
	}
	t.Logf("%d answered (hosts %d/%d/%d), %d acme ledger rows", count.Load(), perHost[0].Load(), perHost[1].Load(), perHost[2].Load(), len(rows))
}

// chatBody is a /v1 chat request; a seed makes it cacheable.
func chatBody(stream bool, seed int64) string {
	extra := ""
	if seed != 0 {
		extra = fmt.Sprintf(`, "temperature": 0, "seed": %d`, seed)
	}
	return fmt.Sprintf(`{"model": "sim-chat", "messages": [{"role": "user", "content": "hello there"}], "stream": %v%s}`, stream, extra)
}

// send sends one request to h as alice, with token, and returns the response.
func send(t *testing.T, h *host, method, path, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+h.addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("SPASS-User-Id", "alice")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// call sends one request and returns its status and body.
func call(t *testing.T, h *host, method, path, token, body string) (int, []byte) {
	t.Helper()
	resp := send(t, h, method, path, token, body)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// waitCount waits until n requests were answered; the bound only ends a failure.
func waitCount(t *testing.T, count *atomic.Int64, n int64) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); count.Load() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d requests answered", count.Load(), n)
		}
	}
}
