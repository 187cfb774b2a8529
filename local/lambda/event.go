package lambda

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// wildcard matches a ServeMux pattern wildcard: {name} or {name...}.
var wildcard = regexp.MustCompile(`\{([^}.$]+)(\.\.\.)?\}`)

// RouteKey turns a net/http ServeMux pattern into the API Gateway HTTP API route key
// that serves the same requests: no method is ANY, {name...} is the greedy
// {name+}, a trailing /{$} is the bare path, and a subtree /p/ is /p/{proxy+}.
func RouteKey(pattern string) string {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "ANY", pattern
	}
	switch {
	case strings.HasSuffix(path, "/{$}"):
		path = strings.TrimSuffix(path, "{$}")
	case strings.HasSuffix(path, "/"):
		path += "{proxy+}"
	}
	return method + " " + wildcard.ReplaceAllStringFunc(path, func(m string) string {
		if strings.HasSuffix(m, "...}") {
			return strings.TrimSuffix(m, "...}") + "+}"
		}
		return m
	})
}

// pathParameters fills the route key's {name} and {name+} variables from r's path.
func pathParameters(r *http.Request, key string) map[string]string {
	_, path, _ := strings.Cut(key, " ")
	var params map[string]string
	segs, got := strings.Split(path, "/"), strings.Split(r.URL.Path, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") || i >= len(got) {
			continue
		}
		if params == nil {
			params = map[string]string{}
		}
		if name, greedy := strings.CutSuffix(strings.Trim(s, "{}"), "+"); greedy {
			params[name] = strings.Join(got[i:], "/")
		} else {
			params[name] = got[i]
		}
	}
	return params
}

// newEvent turns r into the payload format 2.0 event Lambda would deliver: an API
// Gateway HTTP API route event, or a Function URL event when rt.URL. Header names are
// lower-cased and repeated values joined with commas; cookies move to their own
// list; a body that is not text is base64-encoded.
func newEvent(r *http.Request, rt Route, body []byte) ([]byte, error) {
	now := time.Now()
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Headers:        map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: accountID,
			Stage:     "$default",
			RequestID: newID(),
			Time:      now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP(r),
				UserAgent: r.UserAgent(),
			},
		},
	}
	for k, vs := range r.Header {
		if k == "Cookie" {
			for _, v := range vs {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	ev.Headers["host"] = r.Host
	ev.Headers["x-forwarded-for"] = ev.RequestContext.HTTP.SourceIP
	ev.Headers["x-forwarded-proto"] = "http"
	if q := r.URL.Query(); len(q) > 0 {
		ev.QueryStringParameters = map[string]string{}
		for k, vs := range q {
			ev.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	if rt.URL {
		// A Function URL gets every path; its domain is how a handler tells it from an
		// HTTP API (see lambdahttp.IsFunctionURL).
		id := strings.ToLower(rt.Function)
		ev.RouteKey, ev.RequestContext.RouteKey = "$default", "$default"
		ev.RequestContext.APIID, ev.RequestContext.DomainPrefix = id, id
		ev.RequestContext.DomainName = id + ".lambda-url." + region + ".on.aws"
	} else {
		key := RouteKey(rt.Pattern)
		ev.RouteKey, ev.RequestContext.RouteKey = key, key
		ev.RequestContext.APIID, ev.RequestContext.DomainPrefix = "local", "local"
		ev.RequestContext.DomainName = r.Host
		ev.PathParameters = pathParameters(r, key)
	}
	return json.Marshal(ev)
}

// isText reports whether a body of this content type travels as plain text in an
// event; anything else (images, octet streams) is base64-encoded, as API Gateway
// and Function URLs do.
func isText(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || mt == "application/json" || strings.HasSuffix(mt, "+json") ||
		mt == "application/xml" || strings.HasSuffix(mt, "+xml") || mt == "application/x-www-form-urlencoded" ||
		mt == "application/javascript"
}

func sourceIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
