package chat

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"spass/shared/backend"
	"spass/shared/config"
	"spass/shared/router"
)

// TestStreamKeepsTheUpstreamConnection: a stream read up to its [DONE] gives its
// connection back to the pool, so consecutive streams use one connection; before,
// the body was closed before its end and every stream dialled anew. A backend that
// holds its body open after [DONE] costs at most drainWait.
func TestStreamKeepsTheUpstreamConnection(t *testing.T) {
	var conns atomic.Int32
	var holdOn atomic.Bool
	hold := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n"))
		w.(http.Flusher).Flush()
		w.Write([]byte("data: [DONE]\n\n"))
		w.(http.Flusher).Flush()
		if holdOn.Load() {
			<-hold
		}
		// The end of the body comes in a later read than [DONE], as it does
		// from a busy backend: a reader that stops at [DONE] never sees it.
		time.Sleep(10 * time.Millisecond)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	defer close(hold)
	b, err := backend.New(config.Backend{Name: "b", Kind: "vllm", BaseURL: srv.URL}, backend.NewHTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	c := &call{s: &Service{FirstByte: 5 * time.Second}}
	read := func(tg router.Target) {
		rd, _, done, err := c.openStream(context.Background(), tg, []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		defer done()
		for {
			data, err := rd.next()
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(data, doneMarker) {
				return
			}
		}
	}
	for range 5 {
		read(router.Target{Backend: b})
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("5 streams used %d connections, want 1", n)
	}
	// A backend that never ends its body after [DONE]: the stream still ends
	// (the drain gives up and the connection is closed), well before FirstByte.
	holdOn.Store(true)
	read(router.Target{Backend: b})
}
