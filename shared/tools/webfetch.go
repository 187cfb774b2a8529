package tools

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// FetchConfig configures web_fetch. Zero values mean defaults.
type FetchConfig struct {
	// AllowHosts may be reached even on loopback, private or link-local addresses:
	// "host" for any port, "host:port" for one port.
	AllowHosts []string
	// MaxBytes bounds the body read from the server (default 2 MiB).
	MaxBytes int64
	// Timeout bounds the whole fetch, redirects and body included (default 15 s).
	Timeout time.Duration
	// Client, when its Transport is an *http.Transport, lends its settings (TLS
	// roots, say). Dialing, proxies and redirects are always web_fetch's own.
	Client *http.Client

	resolver *net.Resolver // tests point DNS at a fake server; nil is the system's
}

const webFetchSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["url"],
  "properties": {
    "url": {"type": "string", "minLength": 8, "maxLength": 2048, "pattern": "^[A-Za-z][A-Za-z0-9+.-]*:", "description": "Absolute http or https URL of the page."},
    "max_chars": {"type": "integer", "minimum": 500, "maximum": 100000, "description": "Longest text to return, in characters (default 20000)."}
  }
}`

// fetchResult is what web_fetch returns.
type fetchResult struct {
	URL         string `json:"url"` // after redirects
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Title       string `json:"title,omitempty"`
	Text        string `json:"text"`
	Truncated   bool   `json:"truncated"`
}

// WebFetch returns the web_fetch tool: it GETs a public http(s) page and returns its
// readable text. The address checks are in fetchGuard; the byte and time limits keep
// one fetch from holding a tool round or flooding the model's context.
func WebFetch(cfg FetchConfig) Tool {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 2 << 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	guard := newFetchGuard(cfg.AllowHosts)
	client := guard.client(cfg.Client, cfg.resolver)
	return Tool{
		Name: "web_fetch",
		Description: "Fetch a web page by URL and return its readable text (scripts, styles and markup removed) and title. " +
			"Use it to read a page found with web_search or given by the user. Only public http and https addresses are reachable; " +
			"long pages come back cut, with truncated set to true. Text formats only (HTML, plain text, JSON, XML), not PDFs or images.",
		Parameters: json.RawMessage(webFetchSchema),
		Execute: func(ctx context.Context, _ Call, raw json.RawMessage) (any, error) {
			var args struct {
				URL      string `json:"url"`
				MaxChars int    `json:"max_chars"`
			}
			if err := decodeArgs(raw, &args); err != nil {
				return nil, err
			}
			if args.MaxChars <= 0 {
				args.MaxChars = 20000
			}
			u, err := url.Parse(strings.TrimSpace(args.URL))
			if err != nil || !u.IsAbs() {
				return nil, Errorf("invalid_url", "%q is not an absolute URL", args.URL)
			}
			if err := guard.checkURL(u); err != nil {
				return nil, err
			}
			ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
			defer cancel()
			return fetch(ctx, client, u, cfg.MaxBytes, args.MaxChars)
		},
	}
}

func fetch(ctx context.Context, client *http.Client, u *url.URL, maxBytes int64, maxChars int) (any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, Errorf("invalid_url", "%s cannot be requested", u.Redacted())
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.8,*/*;q=0.1")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fetchError(ctx, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, Errorf("http_status", "%s answered HTTP %d", resp.Request.URL.Redacted(), resp.StatusCode)
	}
	ctype := resp.Header.Get("Content-Type")
	if ctype != "" && !textual(ctype) {
		return nil, Errorf("unsupported_content_type", "%s is %s, not a text format web_fetch can read", resp.Request.URL.Redacted(), ctype)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, fetchError(ctx, u, err)
	}
	truncated := int64(len(body)) > maxBytes
	if truncated {
		body = body[:maxBytes]
	}
	if ctype == "" {
		if ctype = http.DetectContentType(body); !textual(ctype) {
			return nil, Errorf("unsupported_content_type", "%s looks like %s, not a text format web_fetch can read", resp.Request.URL.Redacted(), ctype)
		}
	}
	mediaType, params, _ := mime.ParseMediaType(ctype)
	doc := decodeCharset(body, params["charset"])
	out := fetchResult{URL: resp.Request.URL.String(), Status: resp.StatusCode, ContentType: mediaType, Truncated: truncated}
	if mediaType == "text/html" || mediaType == "application/xhtml+xml" {
		out.Title, out.Text = readableText(doc)
	} else {
		out.Text = strings.TrimSpace(strings.ReplaceAll(doc, "\r\n", "\n"))
	}
	var cut bool
	out.Text, cut = clip(out.Text, maxChars)
	out.Truncated = out.Truncated || cut
	return out, nil
}

// fetchError turns a client error into a tool error: the guard's own refusals pass
// through, a spent deadline is a timeout, and anything else is reported without the
// transport's detail (which can name internal addresses).
func fetchError(ctx context.Context, u *url.URL, err error) error {
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	if ctx.Err() != nil {
		return timeoutOr(ctx, "web_fetch", ctx.Err())
	}
	return Errorf("fetch_failed", "could not fetch %s: the connection failed", u.Redacted())
}

// textual reports content types whose bytes are text a model can read.
func textual(ctype string) bool {
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"):
		return true
	case mt == "application/json", mt == "application/xml", mt == "application/xhtml+xml",
		mt == "application/javascript", mt == "application/x-yaml", mt == "application/yaml":
		return true
	}
	return strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")
}

// decodeCharset converts body to UTF-8 using the declared charset; unknown charsets
// and invalid bytes degrade to replacement characters rather than failing the fetch.
func decodeCharset(body []byte, charset string) string {
	if charset != "" && !strings.EqualFold(charset, "utf-8") && !strings.EqualFold(charset, "utf8") {
		if enc, err := htmlindex.Get(charset); err == nil {
			if out, err := enc.NewDecoder().Bytes(body); err == nil {
				body = out
			}
		}
	}
	if utf8.Valid(body) {
		return string(body)
	}
	return strings.ToValidUTF8(string(body), "\uFFFD")
}
