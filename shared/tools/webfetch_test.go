package tools

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

const testPage = `<!DOCTYPE html><html><head><title>Test &amp; Page</title><style>body{color:red}</style>
<script>var secret = "do not show";</script></head>
<body><nav><a href="/">Home</a></nav><h1>Hello</h1><p>First&nbsp;paragraph with <b>bold</b> and a &lt;tag&gt;.</p>
<!-- a comment --><ul><li>one</li><li>two</li></ul><p title="a > b">x &gt; y</p><noscript>enable js</noscript></body></html>`

// fetchSite is an allowed test site; canaryPort is a loopback port nothing may reach.
type fetchSite struct {
	srv        *httptest.Server
	host       string // 127.0.0.1:port, the AllowHosts entry
	canaryPort string
	connected  func() bool
}

func newFetchSite(t *testing.T) *fetchSite {
	t.Helper()
	s := &fetchSite{}
	s.canaryPort, s.connected = canary(t)
	stop := make(chan struct{})
	mux := http.NewServeMux()
	page := func(ctype, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil // no sniffing by the test server
			if ctype != "" {
				w.Header().Set("Content-Type", ctype)
			}
			w.Write([]byte(body))
		}
	}
	redirect := func(to string) http.Handler { return http.RedirectHandler(to, http.StatusFound) }
	mux.Handle("/", page("text/html; charset=utf-8", testPage))
	mux.Handle("/final", page("text/plain", "you made it"))
	mux.Handle("/to-final", redirect("/final"))
	mux.Handle("/loop", redirect("/loop"))
	mux.Handle("/to-loopback", redirect("http://127.0.0.1:"+s.canaryPort+"/"))
	mux.Handle("/to-localhost", redirect("http://localhost:"+s.canaryPort+"/"))
	mux.Handle("/to-metadata", redirect("http://169.254.169.254/latest/meta-data/"))
	mux.Handle("/to-mapped", redirect("http://[::ffff:a9fe:a9fe]/"))
	mux.Handle("/to-rebind", redirect("http://rebind.test:"+s.canaryPort+"/"))
	mux.Handle("/to-file", redirect("file:///etc/passwd"))
	mux.Handle("/big", page("text/plain", strings.Repeat("0123456789", 500)))
	mux.Handle("/png", page("image/png", "\x89PNG\r\n\x1a\n"))
	mux.Handle("/pdf", page("application/pdf", "%PDF-1.7"))
	mux.Handle("/untyped-binary", page("", "\x00\x01\x02\x03\xff\xfe"))
	mux.Handle("/untyped-text", page("", "just words"))
	mux.Handle("/latin1", page("text/plain; charset=iso-8859-1", "caf\xe9"))
	mux.Handle("/json", page("application/json", `{"ok": true}`))
	mux.Handle("/missing", http.NotFoundHandler())
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("start"))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: releases the slow handlers
	s.host = s.srv.Listener.Addr().String()
	return s
}

// tool returns web_fetch allowing only the site, resolving every name to loopback.
func (s *fetchSite) tool(t *testing.T, cfg FetchConfig) Tool {
	cfg.AllowHosts = append(cfg.AllowHosts, s.host)
	cfg.resolver = fakeDNS(t, netip.MustParseAddr("127.0.0.1"))
	return WebFetch(cfg)
}

func fetchURL(t *testing.T, tool Tool, u string) (fetchResult, error) {
	t.Helper()
	args, _ := json.Marshal(map[string]string{"url": u})
	out, err := execArgs(t, tool, string(args))
	if err != nil {
		return fetchResult{}, err
	}
	return out.(fetchResult), nil
}

func TestWebFetch(t *testing.T) {
	site := newFetchSite(t)
	tool := site.tool(t, FetchConfig{})

	t.Run("readable text of an allowed page", func(t *testing.T) {
		got, err := fetchURL(t, tool, site.srv.URL+"/")
		if err != nil {
			t.Fatal(err)
		}
		want := "# Hello\nFirst paragraph with bold and a <tag>.\n- one\n- two\nx > y"
		if got.Title != "Test & Page" || got.Text != want || got.Truncated || got.Status != 200 || got.ContentType != "text/html" {
			t.Fatalf("got %+v\ntext %q\nwant %q", got, got.Text, want)
		}
	})
	t.Run("a redirect within the allowed host is followed", func(t *testing.T) {
		got, err := fetchURL(t, tool, site.srv.URL+"/to-final")
		if err != nil {
			t.Fatal(err)
		}
		if got.Text != "you made it" || got.URL != site.srv.URL+"/final" {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("oversize body is truncated", func(t *testing.T) {
		got, err := fetchURL(t, site.tool(t, FetchConfig{MaxBytes: 1000}), site.srv.URL+"/big")
		if err != nil {
			t.Fatal(err)
		}
		if !got.Truncated || len(got.Text) != 1000 {
			t.Fatalf("truncated %v, %d bytes", got.Truncated, len(got.Text))
		}
	})
	t.Run("max_chars bounds the text", func(t *testing.T) {
		out, err := execArgs(t, tool, `{"url": "`+site.srv.URL+`/big", "max_chars": 500}`)
		if err != nil {
			t.Fatal(err)
		}
		if got := out.(fetchResult); !got.Truncated || len([]rune(got.Text)) != 501 {
			t.Fatalf("truncated %v, %d runes", got.Truncated, len([]rune(got.Text)))
		}
	})
	for path, want := range map[string]string{"/latin1": "café", "/untyped-text": "just words", "/json": `{"ok": true}`} {
		t.Run("text formats "+path, func(t *testing.T) {
			got, err := fetchURL(t, tool, site.srv.URL+path)
			if err != nil || got.Text != want {
				t.Fatalf("got %q, %v; want %q", got.Text, err, want)
			}
		})
	}
	t.Run("a configured client's proxy is not used", func(t *testing.T) {
		proxy, _ := url.Parse("http://127.0.0.1:" + site.canaryPort)
		c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
		if _, err := fetchURL(t, site.tool(t, FetchConfig{Client: c}), site.srv.URL+"/final"); err != nil {
			t.Fatal(err)
		}
		if site.connected() {
			t.Fatal("the request went through the proxy, where the guard cannot see the target")
		}
	})
}

func TestWebFetchRefuses(t *testing.T) {
	site := newFetchSite(t)
	tool := site.tool(t, FetchConfig{})
	c := site.canaryPort
	tests := []struct {
		name, url string
		codes     []string // any of
	}{
		{"loopback", "http://127.0.0.1:" + c + "/", []string{"blocked_address"}},
		{"loopback, other address", "http://127.0.0.2:" + c + "/", []string{"blocked_address"}},
		{"IPv6 loopback", "http://[::1]:" + c + "/", []string{"blocked_address"}},
		{"localhost", "http://localhost:" + c + "/", []string{"blocked_address"}},
		{"localhost with root dot", "http://LOCALHOST.:" + c + "/", []string{"blocked_address"}},
		{"a name resolving to loopback", "http://rebind.test:" + c + "/", []string{"blocked_address"}},
		{"private 10/8", "http://10.0.0.1/", []string{"blocked_address"}},
		{"private 192.168/16", "http://192.168.1.1/", []string{"blocked_address"}},
		{"private 172.16/12", "http://172.16.0.1/", []string{"blocked_address"}},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/", []string{"blocked_address"}},
		{"metadata by name", "http://metadata.google.internal/computeMetadata/v1/", []string{"blocked_address"}},
		{"CGNAT", "http://100.64.0.1/", []string{"blocked_address"}},
		{"unspecified", "http://0.0.0.0:" + c + "/", []string{"blocked_address"}},
		{"IPv6 unspecified", "http://[::]:" + c + "/", []string{"blocked_address"}},
		{"IPv6 link-local", "http://[fe80::1%25eth0]/", []string{"blocked_address"}},
		{"IPv6 unique local", "http://[fd00:ec2::254]/", []string{"blocked_address"}},
		{"IPv4-mapped loopback", "http://[::ffff:127.0.0.1]:" + c + "/", []string{"blocked_address"}},
		{"IPv4-mapped metadata", "http://[::ffff:169.254.169.254]/", []string{"blocked_address"}},
		{"decimal IP", "http://2130706433:" + c + "/", []string{"blocked_address", "invalid_url"}},
		{"hex IP", "http://0x7f.0.0.1:" + c + "/", []string{"blocked_address", "invalid_url"}},
		{"octal IP", "http://0177.0.0.1:" + c + "/", []string{"blocked_address", "invalid_url"}},
		{"short IP", "http://127.1:" + c + "/", []string{"blocked_address", "invalid_url"}},
		{"redirect to loopback", site.srv.URL + "/to-loopback", []string{"blocked_address"}},
		{"redirect to localhost", site.srv.URL + "/to-localhost", []string{"blocked_address"}},
		{"redirect to metadata", site.srv.URL + "/to-metadata", []string{"blocked_address"}},
		{"redirect to mapped metadata", site.srv.URL + "/to-mapped", []string{"blocked_address"}},
		{"redirect to a name resolving to loopback", site.srv.URL + "/to-rebind", []string{"blocked_address"}},
		{"redirect to file", site.srv.URL + "/to-file", []string{"unsupported_scheme"}},
		{"redirect loop", site.srv.URL + "/loop", []string{"too_many_redirects"}},
		{"file scheme", "file:///etc/passwd", []string{"unsupported_scheme"}},
		{"gopher scheme", "gopher://127.0.0.1:" + c + "/", []string{"unsupported_scheme"}},
		{"credentials in URL", "http://user:pass@example.com/", []string{"invalid_url"}},
		{"no host", "http:///path", []string{"invalid_url"}},
		{"relative", "path:only", []string{"invalid_url", "unsupported_scheme"}},
		{"image", site.srv.URL + "/png", []string{"unsupported_content_type"}},
		{"pdf", site.srv.URL + "/pdf", []string{"unsupported_content_type"}},
		{"sniffed binary", site.srv.URL + "/untyped-binary", []string{"unsupported_content_type"}},
		{"HTTP error", site.srv.URL + "/missing", []string{"http_status"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fetchURL(t, tool, tc.url)
			te, ok := err.(*Error)
			if !ok {
				t.Fatalf("err = %v, want a tool error", err)
			}
			found := false
			for _, code := range tc.codes {
				found = found || te.Code == code
			}
			if !found {
				t.Fatalf("code = %s (%s), want one of %v", te.Code, te.Message, tc.codes)
			}
			if site.connected() {
				t.Fatal("a connection reached the loopback canary")
			}
		})
	}

	t.Run("slow server exceeds the timeout", func(t *testing.T) {
		slow := site.tool(t, FetchConfig{Timeout: 50 * time.Millisecond})
		for _, path := range []string{"/slow", "/slow-body"} {
			_, err := fetchURL(t, slow, site.srv.URL+path)
			mustToolErr(t, err, "tool_timeout")
		}
	})
	t.Run("unreachable allowed host", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		_, err := fetchURL(t, WebFetch(FetchConfig{AllowHosts: []string{addr}}), "http://"+addr+"/")
		te := mustToolErr(t, err, "fetch_failed")
		if strings.Contains(te.Message, "refused") || strings.Contains(te.Message, "dial") {
			t.Errorf("transport detail leaked: %q", te.Message)
		}
	})
	t.Run("the caller's cancellation is not a tool answer", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := tool.Execute(ctx, testPrincipal, json.RawMessage(`{"url": "`+site.srv.URL+`/"}`))
		if err == nil {
			t.Fatal("fetched with a cancelled context")
		}
	})
}
