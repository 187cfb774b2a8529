package lambda_test

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"spass/local/lambda"
)

func TestWarmInstanceIsReused(t *testing.T) {
	e, url, _ := startHelper(t, "on", nil)
	for range 3 {
		if resp, _ := get(t, url+"/echo/1"); resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if resp, _ := get(t, url+"/fail"); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("fail: status %d", resp.StatusCode)
	}
	if n := e.Started("Helper"); n != 1 {
		t.Errorf("%d instances started for sequential requests and a returned error, want 1", n)
	}
}

func TestPanicEndsTheInstance(t *testing.T) {
	e, url, logs := startHelper(t, "on", nil)
	if resp, _ := get(t, url+"/panic"); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("panic: status %d", resp.StatusCode)
	}
	if resp, _ := get(t, url+"/echo/1"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("after the panic: status %d", resp.StatusCode)
	}
	if n := e.Started("Helper"); n != 2 {
		t.Errorf("%d instances started, want 2: a panicking runtime exits and the next request cold-starts", n)
	}
	if !strings.Contains(logs.String(), "kaboom") {
		t.Errorf("the panic is not logged:\n%s", logs)
	}
}

func TestTimeoutKillsTheInstance(t *testing.T) {
	e, url, _ := startHelper(t, "on", func(f *lambda.Function) { f.Timeout = 300 * time.Millisecond })
	resp, body := get(t, url+"/sleep")
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("sleep: %d %s, want 504", resp.StatusCode, body)
	}
	if resp, _ := get(t, url+"/echo/1"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("after the timeout: status %d", resp.StatusCode)
	}
	if n := e.Started("Helper"); n != 2 {
		t.Errorf("%d instances started, want 2: the timed-out one is killed", n)
	}
}

func TestInitError(t *testing.T) {
	_, url, logs := startHelper(t, "init-error", nil)
	resp, _ := get(t, url+"/echo/1")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	if !strings.Contains(logs.String(), "Runtime.ConfigError") || !strings.Contains(logs.String(), "no backend configured") {
		t.Errorf("the init error is not reported:\n%s", logs)
	}
}

// TestConcurrentRequestsGetTheirOwnInstances holds n streams open at once: each
// function blocks until the gate opens, so all n first parts can only arrive if n
// instances run side by side.
func TestConcurrentRequestsGetTheirOwnInstances(t *testing.T) {
	const n = 4
	e, url, _ := startHelper(t, "on", nil)
	gate := filepath.Join(t.TempDir(), "gate")
	var firsts, done sync.WaitGroup
	errs := make(chan string, 2*n)
	for range n {
		firsts.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			resp, err := client.Get(url + "/url/stream?gate=" + gate)
			if err != nil {
				errs <- err.Error()
				firsts.Done()
				return
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			first, err := br.ReadString('\n')
			firsts.Done()
			rest, err2 := br.ReadString('\n')
			if err != nil || err2 != nil || first+rest != "one\ntwo\n" {
				errs <- first + rest
			}
		}()
	}
	firsts.Wait()
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	done.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := e.Started("Helper"); got != n {
		t.Errorf("%d instances started for %d concurrent streams", got, n)
	}
	get(t, url+"/echo/1")
	if got := e.Started("Helper"); got != n {
		t.Errorf("a request after the streams started a new instance (%d started): warm ones must be reused", got)
	}
}

func TestCloseSendsSIGTERM(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "sigterm")
	e, url, _ := startHelper(t, "on", func(f *lambda.Function) { f.Env = append(f.Env, "SIGTERM_MARKER="+marker) })
	get(t, url+"/echo/1")
	e.Close()
	if b, err := os.ReadFile(marker); err != nil || string(b) != "bye" {
		t.Errorf("the function's SIGTERM hook did not run: %q, %v", b, err)
	}
}
