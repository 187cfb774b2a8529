package shim_test

// Issue 11, item 5: the server loop bounds slow and idle clients. These tests run
// the gateway through the production loop (gatewaytest's Server setup: web.ServeWith
// with the app's limits) and speak raw TCP where an HTTP client would hide what the
// server does. Clients on other loopback addresses (127.0.0.2, ...) stand for other
// hosts.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"spass/local/gatewaytest"
	"spass/local/simulator"
)

// dial opens a TCP connection to the gateway from the loopback address ip.
func dial(t *testing.T, env *gatewaytest.Env, ip string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", strings.TrimPrefix(env.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second)) // a hang fails the test, it does not stall it
	return c
}

// client is an HTTP client whose connections come from ip.
func client(ip string) *http.Client {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// healthz sends GET /healthz on c and reads the answer, keeping c open.
func healthz(t *testing.T, c net.Conn, br *bufio.Reader) int {
	t.Helper()
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// refusedAtOnce reports whether c was answered 429 too_many_connections without
// having sent anything: a served connection waits for a request instead (and is
// closed without an answer when none comes).
func refusedAtOnce(t *testing.T, c net.Conn) bool {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusTooManyRequests && strings.Contains(string(b), `"code":"too_many_connections"`)
}

// served reports whether a request on c gets an answer other than a refusal.
func served(t *testing.T, c net.Conn) bool {
	t.Helper()
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"); err != nil {
		return false
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// cuts reads spass_server_cuts_total{reason} from /metrics, asked from ip.
func cuts(t *testing.T, env *gatewaytest.Env, ip, reason string) float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", env.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+gatewaytest.MetricsToken)
	resp, err := client(ip).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`spass_server_cuts_total\{reason="` + reason + `"\} (\S+)`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

func chat(t *testing.T, env *gatewaytest.Env, c *http.Client, stream bool) string {
	t.Helper()
	req := env.Request(t, "POST", "/v1/chat/completions",
		fmt.Sprintf(`{"model":"sim-chat","stream":%t,"messages":[{"role":"user","content":"one two three four five six seven eight nine ten"}]}`, stream))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("chat: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// TestSlowBodyIsCut: a body sent one byte at a time stayed open for ever. Now its
// read ends at the body deadline with 408 request_timeout, the connection is
// closed, and the cut is counted.
func TestSlowBodyIsCut(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Server: "{body_timeout: 300ms}"})
	c := dial(t, env, "127.0.0.1")
	fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer %s\r\n"+
		"SPASS-User-Id: alice\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", gatewaytest.AdminToken)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { // one byte every 20 ms: the whole body would take more than half an hour
		for ctx.Err() == nil {
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer while the body trickled: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), `"code":"request_timeout"`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	// Closed: an EOF, or a reset when the server closed with trickled bytes unread.
	if _, err := br.ReadByte(); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the connection stays open after the cut: %v", err)
	}
	stop()
	if n := cuts(t, env, "127.0.0.2", "body_timeout"); n != 1 {
		t.Errorf("body_timeout cuts %v, want 1", n)
	}
}

// TestStreamOutlivesBodyDeadline: the body deadline bounds reading the request, not
// the answer. A stream that keeps moving for longer than it completes, and the
// kept-alive connection serves the next request.
func TestStreamOutlivesBodyDeadline(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Server: "{body_timeout: 200ms}",
		SimOptions: simulator.Options{TokenDelay: 50 * time.Millisecond}})
	c := client("127.0.0.1")
	body := chat(t, env, c, true)
	if !strings.HasSuffix(strings.TrimSpace(body), "data: [DONE]") || strings.Contains(body, `"error"`) {
		t.Fatalf("the stream was cut: %s", body)
	}
	chat(t, env, c, false)
	if n := cuts(t, env, "127.0.0.2", "body_timeout"); n != 0 {
		t.Errorf("body_timeout cuts %v, want 0", n)
	}
}

// TestConnectionsPerClientAreBounded: about 2,000 idle keep-alive connections from
// one client exhausted the descriptors, so that chats timed out. Now one client
// holds at most max_conns_per_client connections; the rest are refused at once,
// and other clients chat as before.
func TestConnectionsPerClientAreBounded(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Server: "{max_conns_per_client: 4, max_conns: 100}"})
	var held []net.Conn
	var readers []*bufio.Reader
	for range 4 {
		c := dial(t, env, "127.0.0.1")
		br := bufio.NewReader(c)
		if code := healthz(t, c, br); code != 200 {
			t.Fatalf("healthz %d", code)
		}
		held, readers = append(held, c), append(readers, br)
	}
	for i := range 50 {
		if !refusedAtOnce(t, dial(t, env, "127.0.0.1")) {
			t.Fatalf("connection %d over the client's bound was not refused", i+5)
		}
	}
	if body := chat(t, env, client("127.0.0.2"), false); !strings.Contains(body, "chat.completion") {
		t.Fatalf("chat from another client: %s", body)
	}
	if code := healthz(t, held[0], readers[0]); code != 200 {
		t.Fatalf("a held connection: %d", code)
	}
	held[1].Close() // its slot is given back
	for attempt := 0; ; attempt++ {
		if served(t, dial(t, env, "127.0.0.1")) {
			break
		}
		if attempt == 500 {
			t.Fatal("a closed connection's slot was never given back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := cuts(t, env, "127.0.0.3", "client_conn_limit"); n < 50 {
		t.Errorf("client_conn_limit cuts %v, want at least 50", n)
	}
}

// TestConnectionsInAllAreBounded: many clients together hold at most max_conns.
func TestConnectionsInAllAreBounded(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Server: "{max_conns_per_client: 10, max_conns: 3}"})
	for _, ip := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.2"} {
		c := dial(t, env, ip)
		if code := healthz(t, c, bufio.NewReader(c)); code != 200 {
			t.Fatalf("healthz from %s: %d", ip, code)
		}
	}
	for _, ip := range []string{"127.0.0.3", "127.0.0.4"} {
		if !refusedAtOnce(t, dial(t, env, ip)) {
			t.Fatalf("a connection from %s over the server's bound was not refused", ip)
		}
	}
}

// TestIdleKeepAliveIsClosed: an idle keep-alive connection is closed after the
// idle timeout, and counted.
func TestIdleKeepAliveIsClosed(t *testing.T) {
	env := gatewaytest.Start(t, gatewaytest.Setup{Server: "{idle_timeout: 200ms}"})
	c := dial(t, env, "127.0.0.1")
	br := bufio.NewReader(c)
	if code := healthz(t, c, br); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("the idle connection was not closed: %v", err)
	}
	for attempt := 0; cuts(t, env, "127.0.0.2", "idle_timeout") < 1; attempt++ {
		if attempt == 500 {
			t.Fatal("the idle cut was not counted")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
