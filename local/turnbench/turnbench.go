// Package turnbench measures what one chat turn costs on a short and on a long
// history, for the benchmarks of /c1 conversations and /a1 sessions (make
// bench): loading history must not cost more as it grows, so the long case may
// cost at most a set ratio of the short one.
package turnbench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"spass/local/gatewaytest"
)

// Text is the content of every seeded message: 200 words, about 1,000 bytes.
// The simulator echoes it, so the replies a turn adds are as large as the
// history's.
var Text = strings.TrimSpace(strings.Repeat("word ", 200))

// Message is the i-th message (from 0) of a seeded history, user and assistant
// in turn: its role, its body and the tokens it counts for.
func Message(i int) (role string, body []byte, tokens int) {
	role, text := "user", Text
	if i%2 == 1 {
		role, text = "assistant", "Hello! You said: "+Text
	}
	body, _ = json.Marshal(map[string]string{"role": role, "content": text})
	return role, body, len(body)/4 + 4
}

// Compare runs run as the sub-benchmarks messages=short and messages=long, and
// fails when a turn on long messages costs more than most times one on short:
// the medians of the measured runs with -count, while each long run reports its
// own ratio to the short median (x-of-<short>). run seeds what it needs, resets
// the timer and times b.N turns; label names the turn in the closing log line.
func Compare(b *testing.B, label string, short, long int, most float64, run func(b *testing.B, n int)) {
	b.Helper()
	perTurn := map[int][]float64{} // ns per turn of each measured run
	for _, n := range []int{short, long} {
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			run(b, n)
			b.StopTimer()
			if b.N == 1 {
				return // the framework's probe run, before the measured one
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			perTurn[n] = append(perTurn[n], ns)
			if n == long && len(perTurn[short]) > 0 {
				b.ReportMetric(ns/median(perTurn[short]), fmt.Sprintf("x-of-%d", short))
			}
		})
	}
	if len(perTurn[short]) == 0 || len(perTurn[long]) == 0 {
		return // a -bench pattern selected one case only
	}
	s, l := median(perTurn[short]), median(perTurn[long])
	b.Logf("%s: %.0f µs on %s messages, %.0f µs on %s (medians of %d runs): ratio %.2f, at most %.1f",
		label, s/1e3, thousands(short), l/1e3, thousands(long), len(perTurn[short]), l/s, most)
	if l/s > most {
		b.Errorf("a turn on %s messages costs %.2fx one on %s, more than %.1fx", thousands(long), l/s, thousands(short), most)
	}
}

// Post sends one turn, body to path, to h as alice with the admin token, and
// decodes its 200 answer into a T.
func Post[T any](b *testing.B, h http.Handler, path, body string) (out T) {
	b.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+gatewaytest.AdminToken)
	req.Header.Set("SPASS-User-Id", "alice")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("turn: %d %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		b.Fatal(err)
	}
	return out
}

// median is the middle of xs (the mean of the two middle ones for an even count).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

// thousands writes n with a comma every three digits, as the log lines read.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
