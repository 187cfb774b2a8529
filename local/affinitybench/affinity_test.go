// Package affinitybench measures what cache-aware routing buys: the time to first
// byte of multi-turn conversations over two replicas of a model whose simulators
// model a prefix cache, with affinity on against replicas taking turns (round
// robin). `make bench` runs it; see docs/routing.md for the numbers.
package affinitybench

import (
	"bufio"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

const (
	conversations = 16
	turns         = 6
	workers       = 4
	systemWords   = 600                    // a long system prompt, as agents and tool definitions make
	turnWords     = 40                     // each question
	prefill       = 100 * time.Microsecond // per uncached prompt token: 600 tokens cost 60 ms
)

const yaml = `
backends:
  - {name: a, kind: simulator, base_url: "{{a}}", tier: 1}
  - {name: b, kind: simulator, base_url: "{{b}}", tier: 1}
models:
  - {id: sim-chat, context_window: 32768, chain: [{backend: a}, {backend: b}]}
`

// BenchmarkAffinityTTFB runs the same conversations with affinity on and off
// and reports the mean and p90 time to first byte of each, and their ratio.
func BenchmarkAffinityTTFB(b *testing.B) {
	for b.Loop() {
		on, moves := run(b, "on")
		off, _ := run(b, "off")
		b.ReportMetric(moves, "affinity-moves")
		b.ReportMetric(ms(mean(on)), "ttfb-affinity-ms")
		b.ReportMetric(ms(mean(off)), "ttfb-roundrobin-ms")
		b.ReportMetric(ms(pct(on, 0.9)), "p90-affinity-ms")
		b.ReportMetric(ms(pct(off, 0.9)), "p90-roundrobin-ms")
		b.ReportMetric(float64(mean(off))/float64(mean(on)), "roundrobin/affinity")
	}
}

// run starts a gateway over two fresh replicas and returns the first-byte
// times of every turn after the first of each conversation (the first turn
// misses on any replica), and how many requests moved off their affine replica.
func run(b *testing.B, affinity string) ([]time.Duration, float64) {
	e := gatewaytest.Start(b, gatewaytest.Setup{Sims: []string{"a", "b"}, YAML: yaml,
		SimOptions: simulator.Options{PrefillDelay: prefill},
		Routing:    "routing: {first_byte_timeout: 10s, response_timeout: 10s, probe_share: -1, affinity: " + affinity + "}\n"})
	var mu sync.Mutex
	var out []time.Duration
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for c := range jobs {
				var msgs []string
				msgs = append(msgs, fmt.Sprintf(`{"role":"system","content":"%d %s"}`, c, words("rule", systemWords)))
				for turn := range turns {
					msgs = append(msgs, fmt.Sprintf(`{"role":"user","content":"%d %s"}`, turn, words("ask", turnWords)))
					d, answer := firstByte(b, e, "["+strings.Join(msgs, ",")+"]")
					msgs = append(msgs, fmt.Sprintf(`{"role":"assistant","content":%q}`, answer))
					if turn > 0 {
						mu.Lock()
						out = append(out, d)
						mu.Unlock()
					}
				}
			}
		})
	}
	for c := range conversations {
		jobs <- c
	}
	close(jobs)
	wg.Wait()
	return out, moves(b, e)
}

// moves reads spass_affinity_total{result="move"} from the gateway's registry.
func moves(b *testing.B, e *gatewaytest.Env) float64 {
	mfs, err := e.App.Metrics.Registry().Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "spass_affinity_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == "move" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// firstByte sends one streamed turn and returns the time to its first content
// event and the answer's text.
func firstByte(b *testing.B, e *gatewaytest.Env, messages string) (time.Duration, string) {
	req := e.Request(b, "POST", "/v1/chat/completions", `{"model":"sim-chat","stream":true,"messages":`+messages+`}`)
	req.Header.Set("SPASS-Tools", "none")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
	var d time.Duration
	var text strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || line == "[DONE]" {
			continue
		}
		if d == 0 {
			d = time.Since(start)
		}
		if i := strings.Index(line, `"content":"`); i >= 0 {
			rest := line[i+len(`"content":"`):]
			text.WriteString(rest[:strings.IndexByte(rest, '"')])
		}
	}
	return d, text.String()
}

func words(w string, n int) string { return strings.TrimSpace(strings.Repeat(w+" ", n)) }

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[int(p*float64(len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
