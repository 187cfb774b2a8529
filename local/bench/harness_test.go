package bench

import (
	"context"
	"testing"
	"time"

	"spass/local/simulator"
)

func TestWithIDRoundTrip(t *testing.T) {
	body := ChatBody(4, false)
	for _, id := range []int{0, 7, 123456, 999999999} {
		got, ok := parseID(withID(body, id))
		if !ok || got != id {
			t.Errorf("parseID(withID(body, %d)) = %d, %v; want %d, true", id, got, ok, id)
		}
		if n := len(withID(body, id)); n != len(body) {
			t.Errorf("withID(body, %d) is %d bytes, want %d like every body", id, n, len(body))
		}
	}
}

// TestLoadThroughGateway runs a tiny load of both kinds against both targets: every
// request succeeds, and the request id survives the gateway so streams get a tail.
func TestLoadThroughGateway(t *testing.T) {
	env, err := Start(context.Background(), simulator.Options{}, GatewaySetup{StackTools: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	client := NewClient()
	t.Cleanup(client.CloseIdleConnections)
	for _, stream := range []bool{false, true} {
		l := Load{
			Targets:  []string{env.SimURL, env.GatewayURL},
			Request:  Request{Body: ChatBody(4, stream), Stream: stream},
			Rate:     1000,
			Duration: 20 * time.Millisecond,
			Block:    10 * time.Millisecond,
			Client:   client,
			Upstream: env.Upstream,
		}
		res, err := l.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i, tr := range res.Targets {
			if tr.Sent != 20 || tr.Errors != 0 || len(tr.Total) != 20 {
				t.Errorf("stream=%v target %d: sent %d, errors %d (%s), %d timed; want 20, 0, 20",
					stream, i, tr.Sent, tr.Errors, tr.FirstError, len(tr.Total))
			}
			if stream && (len(tr.TTFB) != 20 || len(tr.Tail) != 20) {
				t.Errorf("target %d: %d TTFBs and %d tails, want 20 each", i, len(tr.TTFB), len(tr.Tail))
			}
		}
	}
}
