package backend

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"spass/shared/config"
)

// Backend is one configured inference server.
type Backend struct {
	Name    string
	Kind    string
	Tier    int // 0: position in the chain
	Profile Profile
	// ToolCalls is the text form of tool calls turned into structured calls: the
	// backend's tool_call_format, else its kind's default.
	ToolCalls ToolCallFormat

	base   string // base URL + API prefix, no trailing slash
	root   string // base URL, for the health path
	client *http.Client
	// hdr holds the key's header value and Post's request headers, plain and
	// streamed, built once per key and shared by every request: neither
	// http.Client nor Transport modifies them. SetKey swaps it (SIGHUP).
	hdr     atomic.Pointer[keyed]
	chatURL string // base + "/chat/completions", the path nearly every Post takes
	// Load is the backend's observed time to first byte and requests in flight,
	// which the router balances on (load.go).
	Load *Load
}

// New builds a Backend from its config, sharing client (one connection pool).
func New(c config.Backend, client *http.Client) (*Backend, error) {
	p, ok := ProfileOf(c.Kind)
	if !ok {
		return nil, fmt.Errorf("backend %s: unknown kind %q", c.Name, c.Kind)
	}
	root := strings.TrimRight(c.BaseURL, "/")
	base := root
	if !strings.HasSuffix(root, p.APIPrefix) {
		base = root + p.APIPrefix
	}
	b := &Backend{Name: c.Name, Kind: c.Kind, Tier: c.Tier, Profile: p, ToolCalls: p.ToolCalls,
		base: base, root: strings.TrimSuffix(root, p.APIPrefix), client: client, Load: newLoad()}
	if c.ToolCallFormat != "" {
		b.ToolCalls = ToolCallFormat(c.ToolCallFormat)
		if !slices.Contains(ToolCallFormats(), b.ToolCalls) {
			return nil, fmt.Errorf("backend %s: unknown tool_call_format %q", c.Name, c.ToolCallFormat)
		}
	}
	b.SetKey(c.APIKey)
	b.chatURL = b.base + "/chat/completions"
	return b, nil
}

// keyed is a backend's auth header value ("" without a key) and the request
// headers that carry it.
type keyed struct {
	auth    string
	headers [2]http.Header
}

// SetKey replaces the backend's API key ("" for none); requests already sent keep
// the old one. The secrets reload calls it.
func (b *Backend) SetKey(key string) {
	k := &keyed{}
	if key != "" {
		k.auth = b.Profile.AuthScheme + key
	}
	for i := range k.headers {
		h := http.Header{"Content-Type": {"application/json"}}
		if i == 1 {
			h["Accept"] = []string{"text/event-stream"}
		}
		if k.auth != "" {
			h[b.Profile.AuthHeader] = []string{k.auth}
		}
		k.headers[i] = h
	}
	b.hdr.Store(k)
}

// auth returns the auth header value, "" without a key.
func (b *Backend) auth() string { return b.hdr.Load().auth }

// Can reports whether the backend's kind has capability c.
func (b *Backend) Can(c Capability) bool { return b.Profile.Caps[c] }

// Post sends body verbatim to path (e.g. "/chat/completions") and returns the raw
// response; the caller owns resp.Body. ctx governs the whole exchange, so a client
// that goes away cancels the upstream request.
func (b *Backend) Post(ctx context.Context, path string, body []byte, stream bool) (*http.Response, error) {
	url := b.chatURL
	if path != "/chat/completions" {
		url = b.base + path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	h := &b.hdr.Load().headers
	req.Header = h[0]
	if stream {
		req.Header = h[1]
	}
	start := time.Now()
	resp, err := b.client.Do(req)
	if err == nil && resp.StatusCode < 300 {
		// The first byte of the body is the first event of a stream (headers
		// come before prefill ends) or the whole answer of a buffered request.
		resp.Body = &firstByte{ReadCloser: resp.Body, start: start, load: b.Load}
	}
	return resp, err
}

// Healthy probes the kind's health path.
func (b *Backend) Healthy(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.root+b.Profile.HealthPath, nil)
	if err != nil {
		return false
	}
	if auth := b.auth(); auth != "" {
		req.Header.Set(b.Profile.AuthHeader, auth)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}

// NewHTTPClient returns the client all backends share: keep-alive pools sized for
// hundreds of concurrent streams, connect timeout bounded, no overall timeout
// (streams last as long as generation does; contexts bound each attempt).
func NewHTTPClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
		DisableCompression:    true, // relay bytes as they come; gzip would batch SSE events
		// The write buffer stays at the default 4 KB. 16 KB sent a request with the
		// default stack tools (~9 KB) in one write instead of three, for no CPU that
		// `bench -cost` could tell apart, and held 12 KB more on every pooled
		// connection: about 2 MB of peak RSS at 1000 streams/s.
	}
	return &http.Client{Transport: t}
}
