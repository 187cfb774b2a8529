package docs_test

// The curl examples of the documentation are run against a real gateway on the
// simulator, so a reader who copies one gets what the page promises.
//
// Every ```sh or ```bash block that calls curl is run with bash, with TOKEN set to a
// tenant admin's test token, OPERATOR_TOKEN and METRICS_TOKEN to the operators' and
// http://127.0.0.1:8080 replaced by the test gateway's URL. Each curl
// call must answer 2xx, with a JSON body or a well-formed SSE stream. Markers after
// the language, on the fence line:
//
//	```sh expect=401   every curl of the block must answer 401 (an example of an error)
//	```sh norun        the block is not run (it needs something the test cannot give)

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"spass/docs"
	"spass/local/gatewaytest"
)

// docsHost is the address the examples use: `make run`'s default.
const docsHost = "http://127.0.0.1:8080"

// example is one runnable shell block.
type example struct {
	file   string
	line   int
	script string
	expect int // 0: any 2xx
}

var fence = regexp.MustCompile("^```(sh|bash|shell)\\b(.*)$")

// examples extracts the runnable curl blocks of every page.
func examples(t *testing.T) []example {
	t.Helper()
	names, err := fs.Glob(docs.Files(), "*.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []example
	for _, name := range names {
		src, err := fs.ReadFile(docs.Files(), name)
		if err != nil {
			t.Fatal(err)
		}
		var cur *example
		var body []string
		norun := false
		for i, line := range strings.Split(string(src), "\n") {
			switch {
			case cur == nil:
				m := fence.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				cur, body, norun = &example{file: name, line: i + 1}, nil, false
				for _, word := range strings.Fields(m[2]) {
					switch {
					case word == "norun":
						norun = true
					case strings.HasPrefix(word, "expect="):
						if cur.expect, err = strconv.Atoi(strings.TrimPrefix(word, "expect=")); err != nil {
							t.Fatalf("%s:%d: bad marker %q", name, i+1, word)
						}
					default:
						t.Fatalf("%s:%d: unknown marker %q (expect=NNN or norun)", name, i+1, word)
					}
				}
			case strings.HasPrefix(line, "```"):
				cur.script = strings.Join(body, "\n")
				if !norun && strings.Contains(cur.script, "curl ") {
					out = append(out, *cur)
				}
				cur = nil
			default:
				body = append(body, line)
			}
		}
	}
	return out
}

// prelude wraps curl so every call's status, headers and body are kept for the
// checks, whatever output flags the example itself uses.
const prelude = `set -euo pipefail
n=0
curl() {
  n=$((n + 1))
  command curl "$@" --no-include -sS -D "$OUT/$n.headers" -o "$OUT/$n.body" -w '%{http_code}' > "$OUT/$n.status"
  cat "$OUT/$n.body"
}
`

func TestCurlExamples(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is not installed; the documentation's examples need it")
	}
	env := gatewaytest.Start(t, gatewaytest.Setup{})
	env.RunJobs(t) // the RAG page's examples wait for their documents' indexing
	all := examples(t)
	if len(all) < 10 {
		t.Fatalf("found only %d curl examples; did the fence syntax change?", len(all))
	}
	for _, ex := range all {
		t.Run(fmt.Sprintf("%s:%d", ex.file, ex.line), func(t *testing.T) {
			out := t.TempDir()
			cmd := exec.Command("bash", "-c", prelude+strings.ReplaceAll(ex.script, docsHost, env.URL))
			cmd.Env = append(os.Environ(), "TOKEN="+gatewaytest.AdminToken, "OPERATOR_TOKEN="+gatewaytest.OperatorToken,
				"METRICS_TOKEN="+gatewaytest.MetricsToken, "OUT="+out)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s\nscript:\n%s", err, b, ex.script)
			}
			calls, _ := filepath.Glob(filepath.Join(out, "*.status"))
			if len(calls) == 0 {
				t.Fatal("the block made no curl call")
			}
			for _, s := range calls {
				checkCall(t, ex, strings.TrimSuffix(s, ".status"))
			}
		})
	}
}

// checkCall asserts one curl call's status and that its body is what its
// Content-Type says.
func checkCall(t *testing.T, ex example, base string) {
	t.Helper()
	status, _ := os.ReadFile(base + ".status")
	headers, _ := os.ReadFile(base + ".headers")
	body, _ := os.ReadFile(base + ".body")
	code, _ := strconv.Atoi(string(status))
	if ex.expect != 0 && code != ex.expect || ex.expect == 0 && (code < 200 || code > 299) {
		t.Fatalf("status %d (want %s): %s", code, map[bool]string{true: strconv.Itoa(ex.expect), false: "2xx"}[ex.expect != 0], body)
	}
	ctype := ""
	for _, h := range strings.Split(string(headers), "\n") {
		if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, "Content-Type") {
			ctype = strings.TrimSpace(v)
		}
	}
	switch {
	case strings.HasPrefix(ctype, "application/json"):
		if !json.Valid(body) {
			t.Fatalf("invalid JSON: %s", body)
		}
	case strings.HasPrefix(ctype, "text/event-stream"):
		var events []string
		sc := bufio.NewScanner(bytes.NewReader(body))
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				if data != "[DONE]" && !json.Valid([]byte(data)) {
					t.Fatalf("event is not JSON: %s", data)
				}
				events = append(events, data)
			}
		}
		if len(events) < 2 || events[len(events)-1] != "[DONE]" || slices.ContainsFunc(events, func(e string) bool { return strings.HasPrefix(e, `{"error"`) }) {
			t.Fatalf("stream did not complete: %q", events)
		}
	default:
		t.Fatalf("unexpected Content-Type %q", ctype)
	}
}
