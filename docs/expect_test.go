package docs_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// checkOutput compares the documented answer of an example with the real one, on
// the fields that are stable (see matchJSON). The documented JSON may show a subset
// of an object's keys; every key it shows must match.
func checkOutput(t *testing.T, ex example, got []byte) {
	t.Helper()
	var want, have any
	if err := json.Unmarshal([]byte(ex.output), &want); err != nil {
		t.Fatalf("%s:%d: the documented output is not JSON (mark it ```json nocheck, or fix it): %v", ex.file, ex.outputLine, err)
	}
	if err := json.Unmarshal(got, &have); err != nil {
		t.Fatalf("%s:%d: the answer is not JSON: %s", ex.file, ex.outputLine, got)
	}
	if diffs := matchJSON("", want, have); len(diffs) > 0 {
		t.Errorf("%s:%d: the documented output differs from the answer:\n  %s\nanswer: %s",
			ex.file, ex.outputLine, strings.Join(diffs, "\n  "), got)
	}
}

// checkHeaders compares a documented status line and headers (curl -i) with the
// real ones: the status code, and every header shown, its value masked as strings
// are; the answer may have more headers.
func checkHeaders(t *testing.T, ex example, got string) {
	t.Helper()
	have := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(got, "\r\n", "\n"), "\n")
	for _, l := range lines[1:] {
		if k, v, ok := strings.Cut(l, ":"); ok {
			have[strings.ToLower(k)] = strings.TrimSpace(v)
		}
	}
	var diffs []string
	for i, l := range strings.Split(ex.output, "\n") {
		if i == 0 {
			if want, gotCode := strings.Fields(l), strings.Fields(lines[0]); len(want) < 2 || len(gotCode) < 2 || want[1] != gotCode[1] {
				diffs = append(diffs, fmt.Sprintf("status: documented %q, got %q", l, lines[0]))
			}
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if h, ok := have[strings.ToLower(k)]; !ok || !sameString(v, h) && !strings.HasPrefix(h, v+";") {
			diffs = append(diffs, fmt.Sprintf("%s: documented %q, got %q", k, v, h))
		}
	}
	if len(diffs) > 0 {
		t.Errorf("%s:%d: the documented headers differ from the answer's:\n  %s", ex.file, ex.outputLine, strings.Join(diffs, "\n  "))
	}
}

// Values that differ from run to run are compared by form only:
//   - numbers under a key that is a time ("created", "*_at") are any number;
//   - strings are compared with their generated parts masked: runs of hex digits
//     (ids: chatcmpl-sim00000001, conv_52abde…), RFC 3339 times, and whatever a
//     documented "…" stands for;
//   - a documented string that holds "…" matches any string that starts with what
//     comes before it;
//   - an array whose last documented item is "…" shows some of the answer's items.
var (
	hexRun  = regexp.MustCompile(`[0-9a-f]*[0-9][0-9a-f]*`)
	rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
)

// matchJSON returns where have differs from the documented want, by path.
func matchJSON(path string, want, have any) []string {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: documented an object, got %s", orRoot(path), short(have))}
		}
		var diffs []string
		for k, wv := range w {
			hv, ok := h[k]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: documented, but not in the answer", orRoot(path), k))
				continue
			}
			diffs = append(diffs, matchJSON(path+"."+k, wv, hv)...)
		}
		return diffs
	case []any:
		h, ok := have.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: documented an array, got %s", orRoot(path), short(have))}
		}
		if n := len(w); n > 0 && w[n-1] == "…" {
			return matchSome(path, w[:n-1], h)
		}
		if len(w) != len(h) {
			return []string{fmt.Sprintf("%s: documented %d items, the answer has %d", orRoot(path), len(w), len(h))}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, matchJSON(fmt.Sprintf("%s[%d]", path, i), w[i], h[i])...)
		}
		return diffs
	case float64:
		h, ok := have.(float64)
		if ok && (h == w || isTimeKey(path)) {
			return nil
		}
		return []string{fmt.Sprintf("%s: documented %v, got %s", orRoot(path), w, short(have))}
	case string:
		h, ok := have.(string)
		if ok && sameString(w, h) {
			return nil
		}
		return []string{fmt.Sprintf("%s: documented %q, got %s", orRoot(path), w, short(have))}
	}
	if fmt.Sprint(want) != fmt.Sprint(have) {
		return []string{fmt.Sprintf("%s: documented %v, got %s", orRoot(path), want, short(have))}
	}
	return nil
}

// matchSome matches an abbreviated array (its last documented item is "…"): each
// item shown must match an item of the answer, in order; the answer may have more.
func matchSome(path string, want, have []any) []string {
	j := 0
	for i, w := range want {
		for j < len(have) && len(matchJSON("", w, have[j])) > 0 {
			j++
		}
		if j == len(have) {
			return []string{fmt.Sprintf("%s[%d]: documented %s, which no item of the answer (after the ones before it) matches", orRoot(path), i, short(w))}
		}
		j++
	}
	return nil
}

// isTimeKey reports whether the path ends in a key that holds a time.
func isTimeKey(path string) bool {
	key := path[strings.LastIndex(path, ".")+1:]
	return key == "created" || strings.HasSuffix(key, "_at")
}

// sameString compares a documented string with the answer's, generated parts masked.
func sameString(want, have string) bool {
	if prefix, _, ok := strings.Cut(want, "…"); ok {
		return strings.HasPrefix(mask(have), mask(prefix)) || strings.HasPrefix(have, prefix)
	}
	return mask(want) == mask(have)
}

// mask replaces the parts of s that differ between runs.
func mask(s string) string {
	s = rfc3339.ReplaceAllStringFunc(s, func(m string) string {
		if _, err := time.Parse(time.RFC3339Nano, m); err == nil {
			return "<time>"
		}
		return m
	})
	return hexRun.ReplaceAllStringFunc(s, func(m string) string {
		if len(m) >= 6 {
			return "<hex>"
		}
		return m
	})
}

func orRoot(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 120 {
		return string(b[:117]) + "..."
	}
	return string(b)
}

// The output check must be able to say no, or a passing docs test proves nothing.
func TestOutputCheck(t *testing.T) {
	tests := []struct {
		name, doc, answer string
		ok                bool
	}{
		{"generated ids, times and extra keys", `{"id": "chatcmpl-sim00000001", "created": 1767225600, "checked_at": "2026-01-01T12:00:00Z", "model": "sim-chat"}`,
			`{"id": "chatcmpl-sim00000042", "created": 1796296404, "checked_at": "2026-12-03T11:09:28.5Z", "model": "sim-chat", "extra": 1}`, true},
		{"abbreviated string and array", `{"next": "MTc5…", "data": [{"id": "b"}, "…"]}`, `{"next": "MTc5NjI5", "data": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}`, true},
		{"a model more than documented", `{"data": [{"id": "sim-chat"}, {"id": "sim-embed"}]}`, `{"data": [{"id": "sim-chat"}, {"id": "sim-embed"}, {"id": "sim-image"}]}`, false},
		{"other arguments", `{"arguments": "{\"city\":\"Paris\"}"}`, `{"arguments": "{\"city\":\"example\"}"}`, false},
		{"other token counts", `{"usage": {"completion_tokens": 5}}`, `{"usage": {"completion_tokens": 4}}`, false},
		{"a documented key the answer lacks", `{"provider": "auto"}`, `{"model": "sim-chat"}`, false},
		{"another backend", `{"backend": "sim"}`, `{"backend": "simulator"}`, false},
		{"an item shown that is not there", `{"data": [{"id": "x"}, "…"]}`, `{"data": [{"id": "a"}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc, answer any
			if json.Unmarshal([]byte(tt.doc), &doc) != nil || json.Unmarshal([]byte(tt.answer), &answer) != nil {
				t.Fatal("bad test JSON")
			}
			diffs := matchJSON("", doc, answer)
			if got := len(diffs) == 0; got != tt.ok {
				t.Errorf("match = %v (%v), want %v", got, diffs, tt.ok)
			}
		})
	}
}
