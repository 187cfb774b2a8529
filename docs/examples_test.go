package docs_test

// The curl examples of the documentation are run against a real gateway on the
// simulator, so a reader who copies one gets what the page promises.
//
// Every ```sh or ```bash block that calls curl is run with bash, with TOKEN set to a
// tenant admin's test token, OPERATOR_TOKEN and METRICS_TOKEN to the operators' and
// http://127.0.0.1:8080 replaced by the test gateway's URL. Each curl
// call must answer 2xx, with a JSON body or a well-formed SSE stream. A page's blocks
// run in order, and a variable that a block sets at its top level (CONV=$(curl …))
// is set in the page's later blocks too, as in a reader's shell session. Markers
// after the language, on the fence line:
//
//	```sh expect=401   every curl of the block must answer 401 (an example of an error)
//	```sh norun        the block is not run (it needs something the test cannot give)
//
// A ```json block right after a run block (only blank lines between) is the
// documented answer of its last curl call, and must match it (see checkOutput);
// ```json nocheck opts out.

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
	// output is the documented answer of the block's last curl call: the ```json
	// block right after it (only blank lines between), or a ```text block of
	// response headers (curl -i) starting "HTTP/"; "" when there is none.
	output     string
	outputLine int
	headers    bool // output is a status line and headers
}

// block is one fenced block of a page.
type block struct {
	file    string
	line    int    // of the opening fence
	lang    string // sh, json, js, ...
	markers []string
	body    string
	// adjacent is set when only blank lines separate it from the previous block.
	adjacent bool
}

var fence = regexp.MustCompile("^```(\\w*)(.*)$")

// pageBlocks returns every fenced block of the named pages (all when none), page
// by page, in order.
func pageBlocks(t *testing.T) []block {
	t.Helper()
	names, err := fs.Glob(docs.Files(), "*.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []block
	for _, name := range names {
		src, err := fs.ReadFile(docs.Files(), name)
		if err != nil {
			t.Fatal(err)
		}
		var cur *block
		var body []string
		adjacent := false
		for i, line := range strings.Split(string(src), "\n") {
			switch {
			case cur == nil:
				m := fence.FindStringSubmatch(line)
				if m == nil {
					adjacent = adjacent && strings.TrimSpace(line) == ""
					continue
				}
				cur, body = &block{file: name, line: i + 1, lang: m[1], markers: strings.Fields(m[2]), adjacent: adjacent}, nil
			case strings.HasPrefix(line, "```"):
				cur.body = strings.Join(body, "\n")
				out = append(out, *cur)
				cur, adjacent = nil, true
			default:
				body = append(body, line)
			}
		}
	}
	return out
}

// examples extracts the runnable curl blocks of every page, each with the
// documented output that follows it. Markers after the language:
// expect=NNN, norun; an output block may say nocheck.
func examples(t *testing.T) []example {
	t.Helper()
	all := pageBlocks(t)
	var out []example
	for i, b := range all {
		if b.lang != "sh" && b.lang != "bash" && b.lang != "shell" {
			continue
		}
		ex := example{file: b.file, line: b.line, script: b.body}
		norun := false
		for _, word := range b.markers {
			var err error
			switch {
			case word == "norun":
				norun = true
			case strings.HasPrefix(word, "expect="):
				if ex.expect, err = strconv.Atoi(strings.TrimPrefix(word, "expect=")); err != nil {
					t.Fatalf("%s:%d: bad marker %q", b.file, b.line, word)
				}
			default:
				t.Fatalf("%s:%d: unknown marker %q (expect=NNN or norun)", b.file, b.line, word)
			}
		}
		if norun || !strings.Contains(ex.script, "curl ") {
			continue
		}
		if i+1 < len(all) {
			next := all[i+1]
			if next.file == b.file && next.adjacent && !slices.Contains(next.markers, "nocheck") {
				switch {
				case next.lang == "json":
					ex.output, ex.outputLine = next.body, next.line
				case next.lang == "text" && strings.HasPrefix(next.body, "HTTP/"):
					ex.output, ex.outputLine, ex.headers = next.body, next.line, true
				}
			}
		}
		out = append(out, ex)
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
__before=$(compgen -v)
if [ -f "$STATE" ]; then source "$STATE"; fi
`

// epilogue writes the page's variables (the earlier blocks' and this one's) to
// its state, for its later blocks.
const epilogue = `
for __v in $(compgen -v); do
  case "$__v" in __*|BASH*|FUNCNAME|PIPESTATUS|_) continue ;; esac
  if ! grep -qx "$__v" <<<"$__before"; then declare -p "$__v"; fi
done > "$STATE.new"
mv "$STATE.new" "$STATE"
`

func TestCurlExamples(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is not installed; the documentation's examples need it")
	}
	env := startDocsGateway(t)
	all := examples(t)
	if len(all) < 10 {
		t.Fatalf("found only %d curl examples; did the fence syntax change?", len(all))
	}
	states := t.TempDir() // one file of variables per page
	for _, ex := range all {
		t.Run(fmt.Sprintf("%s:%d", ex.file, ex.line), func(t *testing.T) {
			out := t.TempDir()
			cmd := exec.Command("bash", "-c", prelude+strings.ReplaceAll(ex.script, docsHost, env.URL)+epilogue)
			cmd.Dir = states // files an example writes (speech.wav) stay out of the checkout
			cmd.Env = append(os.Environ(), "TOKEN="+gatewaytest.AdminToken, "OPERATOR_TOKEN="+gatewaytest.OperatorToken,
				"METRICS_TOKEN="+gatewaytest.MetricsToken, "OUT="+out,
				"STATE="+filepath.Join(states, strings.TrimSuffix(ex.file, ".md")+".sh"))
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
			switch last := filepath.Join(out, strconv.Itoa(len(calls))); {
			case ex.headers:
				h, _ := os.ReadFile(last + ".headers")
				checkHeaders(t, ex, string(h))
			case ex.output != "":
				body, _ := os.ReadFile(last + ".body")
				checkOutput(t, ex, bytes.ReplaceAll(body, []byte(env.URL), []byte(docsHost)))
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
		// A chat stream ends with [DONE], a Responses API stream with its terminal event,
		// an A2A stream (docs/a2a.md) with its final status-update.
		last := ""
		if len(events) > 0 {
			last = events[len(events)-1]
		}
		ended := last == "[DONE]" || strings.Contains(last, `"type":"response.completed"`) || strings.Contains(last, `"final":true`)
		if len(events) < 2 || !ended || slices.ContainsFunc(events, func(e string) bool { return strings.HasPrefix(e, `{"error"`) }) {
			t.Fatalf("stream did not complete: %q", events)
		}
	case strings.HasPrefix(ctype, "audio/"), strings.HasPrefix(ctype, "text/plain"):
		if len(body) == 0 {
			t.Fatalf("an empty %s answer", ctype)
		}
	default:
		t.Fatalf("unexpected Content-Type %q", ctype)
	}
}

// startDocsGateway runs a gateway that answers as `make run` does: the simulator
// models through a backend named "simulator".
func startDocsGateway(t *testing.T) *gatewaytest.Env {
	return gatewaytest.Start(t, gatewaytest.Setup{Sims: []string{"simulator"}, Jobs: true, // batches and RAG need a job runner
		YAML: strings.NewReplacer("name: sim,", "name: simulator,", "{{sim}}", "{{simulator}}", "backend: sim}", "backend: simulator}").
			Replace(gatewaytest.DefaultYAML)})
}
