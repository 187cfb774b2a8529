// Package proctest runs the gateway's own binaries as child processes, for the
// tests that must kill them with SIGKILL, restart them, or run several side by
// side: build them as the Makefile does, start them, wait for /healthz, and send
// a chat request that tells a complete answer from one cut by a kill.
package proctest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Build compiles pkg into dir with the build tags the Makefile uses and returns
// the binary's path: dir joined with pkg's last element.
func Build(t testing.TB, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	if out, err := exec.Command("go", "build", "-tags", "sqlite_fts5", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// FreeAddr returns a loopback address that was free a moment ago, for a
// process that must be started again on the same address after a kill.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start runs bin with env added to this process's environment and its stderr
// written to stderr (nil discards it). A process the test has not ended itself
// is killed when the test ends, so a failing test leaves none behind.
func Start(t testing.TB, bin string, env []string, stderr io.Writer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			Kill(cmd)
		}
	})
	return cmd
}

// Kill ends cmd with SIGKILL (no shutdown, no drain, no ledger flush) and
// waits for it.
func Kill(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}

// WaitHealthy waits up to limit for the gateway at addr to answer /healthz, and
// fails the test if it does not.
func WaitHealthy(t testing.TB, addr string, limit time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
	}
	t.Fatalf("gateway %s did not start", addr)
}

// Chat sends one /v1 chat request for sim-chat with token to the gateway at
// addr and reports its request id, and whether the answer arrived complete: a
// stream up to its [DONE], a JSON body up to its closing brace.
func Chat(ctx context.Context, addr, token string, stream bool) (id string, complete bool) {
	body := fmt.Sprintf(`{"model":"sim-chat","messages":[{"role":"user","content":"hello there"}],"stream":%v}`, stream)
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("SPASS-User-Id", "u")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", false
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		complete = complete || line == "data: [DONE]" || (!stream && strings.HasSuffix(line, "}"))
	}
	return resp.Header.Get("SPASS-Request-Id"), complete && sc.Err() == nil
}
