package bench

import (
	"context"
	"os"
	"testing"
	"time"

	"spass/local/simulator"
)

// The benchmarks send one request at a time (closed loop) over real loopback HTTP
// and report time and allocations per request for the whole process: the client,
// the simulator and, for the Gateway ones, the gateway (for the Bare ones, a bare
// httputil.ReverseProxy). The Direct ones are the baseline to subtract. Profile the gateway's path with
//
//	go test ./local/bench -run '^$' -bench Gateway -cpuprofile cpu.out
//	go tool pprof -top cpu.out
//
// BENCH_GATEWAY_YAML is appended to the gateway's gateway.yaml, e.g.
// "billing: {disabled: true}" to leave the ledger out. The ChatStackTools one
// keeps the tenant default of injecting every stack tool.

func BenchmarkDirectChat(b *testing.B)  { benchmarkTarget(b, Direct, false, false) }
func BenchmarkBareChat(b *testing.B)    { benchmarkTarget(b, BareProxy, false, false) }
func BenchmarkGatewayChat(b *testing.B) { benchmarkTarget(b, Gateway, false, false) }
func BenchmarkGatewayChatStackTools(b *testing.B) {
	benchmarkTarget(b, Gateway, false, true)
}
func BenchmarkDirectStream(b *testing.B)  { benchmarkTarget(b, Direct, true, false) }
func BenchmarkBareStream(b *testing.B)    { benchmarkTarget(b, BareProxy, true, false) }
func BenchmarkGatewayStream(b *testing.B) { benchmarkTarget(b, Gateway, true, false) }
func BenchmarkGatewayStreamStackTools(b *testing.B) {
	benchmarkTarget(b, Gateway, true, true)
}

func benchmarkTarget(b *testing.B, target string, stream, stackTools bool) {
	// No token delay by default: the benchmark measures the work per request, not
	// waiting. BENCH_TOKEN_DELAY (e.g. 1ms) paces the tokens, so that a stream is
	// relayed event by event as under real generation.
	sim := simulator.Options{}
	if d := os.Getenv("BENCH_TOKEN_DELAY"); d != "" {
		var err error
		if sim.TokenDelay, err = time.ParseDuration(d); err != nil {
			b.Fatal(err)
		}
	}
	env, err := Start(context.Background(), sim, GatewaySetup{YAML: os.Getenv("BENCH_GATEWAY_YAML"), StackTools: stackTools})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(env.Close)
	url := env.SimURL
	switch target {
	case Gateway:
		url = env.GatewayURL
	case BareProxy:
		if url, err = env.AddBareProxy(); err != nil {
			b.Fatal(err)
		}
	}
	client := NewClient()
	b.Cleanup(client.CloseIdleConnections)
	req := Request{Body: ChatBody(16, stream), Stream: stream}
	ctx := context.Background()
	var ttfb time.Duration
	b.ReportAllocs()
	cpu := cpuTime()
	for id := 0; b.Loop(); id++ {
		t, err := req.Do(ctx, client, url, id, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		ttfb += t.TTFB
	}
	// The process's CPU per request (client, simulator and target): the Direct
	// benchmark's is the floor to subtract, as bench -cost does with processes.
	b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
	if stream {
		b.ReportMetric(float64(ttfb.Nanoseconds())/float64(b.N), "ttfb-ns/op")
	}
}
