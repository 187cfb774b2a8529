package tools

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// fetchGuard keeps web_fetch on the public internet. A model chooses the URL, and a
// page it reads may ask it to fetch http://169.254.169.254/ or an admin port on
// localhost; the gateway must not become a proxy into its own network (SSRF).
//
// The check that counts runs at dial time, in the net.Dialer's Control hook, on the
// IP the socket is about to connect to, after DNS resolution and before connect(2):
// a hostname that resolves (or re-resolves, DNS rebinding) to an internal address is
// refused without a packet being sent to it. Every URL, the first and each redirect,
// is also checked before any request is made, so IP literals, blocked names and
// numeric IP spellings fail fast with a clear message. Proxies are disabled, since a
// proxy would make the dialed IP the proxy's, not the target's.
//
// Hosts in AllowHosts ("host" for any port, "host:port" for one) skip both checks:
// that is how an operator lets web_fetch reach an internal wiki, and how tests reach
// an httptest server on 127.0.0.1.
type fetchGuard struct {
	allow   map[string]bool
	blocked []netip.Prefix
}

// internalName reports hostnames that reach the machine itself or a cloud metadata
// service without an IP written anywhere in the URL.
func internalName(h string) bool {
	switch h {
	case "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback",
		"metadata", "metadata.google.internal", "metadata.goog",
		"instance-data", "instance-data.ec2.internal":
		return true
	}
	return strings.HasSuffix(h, ".localhost")
}

func newFetchGuard(allowHosts []string) *fetchGuard {
	g := &fetchGuard{allow: map[string]bool{}}
	for _, h := range allowHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if host, port, err := net.SplitHostPort(h); err == nil {
			g.allow[net.JoinHostPort(normHost(host), port)] = true
		} else if h != "" {
			g.allow[normHost(h)] = true
		}
	}
	// Ranges that are not public unicast and that netip's predicates (loopback,
	// private, link-local, multicast, unspecified) do not already cover.
	for _, p := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // carrier-grade NAT; also Alibaba's metadata 100.100.100.200
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"240.0.0.0/4",     // reserved, and 255.255.255.255
		"::/96",           // IPv4-compatible (deprecated) forms such as ::127.0.0.1
		"64:ff9b::/96",    // NAT64: embeds an IPv4 address the gateway's NAT would reach
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard-only
		"2001::/32",       // Teredo: embeds an IPv4 address
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4: embeds an IPv4 address
		"fec0::/10",       // site-local (deprecated)
	} {
		g.blocked = append(g.blocked, netip.MustParsePrefix(p))
	}
	return g
}

// normHost lower-cases a host, strips IPv6 brackets and a trailing root dot, so
// "LOCALHOST." and "[::1]" compare as what they are.
func normHost(h string) string {
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

func (g *fetchGuard) allowed(host, port string) bool {
	host = normHost(host)
	return g.allow[host] || g.allow[net.JoinHostPort(host, port)]
}

// addrClass names why ip is refused, or returns "" for a public unicast address.
func (g *fetchGuard) addrClass(ip netip.Addr) string {
	ip = ip.WithZone("").Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLinkLocalUnicast():
		return "link-local (cloud metadata)"
	case ip.IsMulticast():
		return "multicast"
	case ip.IsPrivate():
		return "private"
	case !ip.IsGlobalUnicast():
		return "non-unicast"
	}
	for _, p := range g.blocked {
		if p.Contains(ip) {
			return "reserved"
		}
	}
	return ""
}

func blocked(host, why string) *Error {
	return Errorf("blocked_address", "refusing to fetch %s: %s; web_fetch only reaches public internet addresses", host, why)
}

// checkURL is the pre-request check, run on the URL the model gave and on every
// redirect target.
func (g *fetchGuard) checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return Errorf("unsupported_scheme", "only http and https URLs can be fetched, not %q", u.Scheme)
	}
	if u.User != nil {
		return Errorf("invalid_url", "URLs with credentials (user@host) are not fetched")
	}
	host := u.Hostname()
	if host == "" {
		return Errorf("invalid_url", "the URL has no host")
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return g.checkHost(host, port)
}

// checkHost refuses IP literals outside the public internet, well-known internal
// names, and numeric hosts that are not canonical IP literals (2130706433, 0x7f.1,
// 0177.0.0.1): resolvers read those as IPs, and no public DNS name ends in a number.
func (g *fetchGuard) checkHost(host, port string) error {
	if g.allowed(host, port) {
		return nil
	}
	h := normHost(host)
	if ip, err := netip.ParseAddr(h); err == nil {
		if why := g.addrClass(ip); why != "" {
			return blocked(host, ip.String()+" is a "+why+" address")
		}
		return nil
	}
	if internalName(h) {
		return blocked(host, "it names the local machine or an internal service")
	}
	last := h[strings.LastIndexByte(h, '.')+1:]
	if last == "" || strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") {
		return blocked(host, "it is not a canonical IP address or DNS name")
	}
	return nil
}

// control runs after the socket is created and before it connects: the last word on
// every address, whatever name or redirect led to it.
func (g *fetchGuard) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return blocked(address, "only TCP is used")
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return blocked(address, "the address cannot be checked")
	}
	if why := g.addrClass(ap.Addr()); why != "" {
		return blocked(address, "it resolves to "+ap.Addr().String()+", a "+why+" address")
	}
	return nil
}

// dialer returns the transport's DialContext: allowed hosts dial as usual, every
// other host through a dialer whose Control refuses non-public IPs.
func (g *fetchGuard) dialer(resolver *net.Resolver) func(ctx context.Context, network, addr string) (net.Conn, error) {
	open := &net.Dialer{Timeout: 10 * time.Second, Resolver: resolver}
	guarded := &net.Dialer{Timeout: 10 * time.Second, Resolver: resolver, Control: g.control}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, blocked(addr, "the address cannot be checked")
		}
		if g.allowed(host, port) {
			return open.DialContext(ctx, network, addr)
		}
		if err := g.checkHost(host, port); err != nil {
			return nil, err
		}
		return guarded.DialContext(ctx, network, addr)
	}
}

// maxRedirects bounds a fetch's redirect chain.
const maxRedirects = 5

// client builds web_fetch's HTTP client. From base it keeps only an *http.Transport's
// settings (TLS roots for an allowed internal host, say); dialing, proxying and
// redirects are always the guard's. Any other RoundTripper cannot be guarded and is
// not used.
func (g *fetchGuard) client(base *http.Client, resolver *net.Resolver) *http.Client {
	var t *http.Transport
	if base != nil {
		if bt, ok := base.Transport.(*http.Transport); ok {
			t = bt.Clone()
		}
	}
	if t == nil {
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			t = dt.Clone()
		} else {
			t = &http.Transport{}
		}
	}
	t.Proxy = nil
	t.DialContext = g.dialer(resolver)
	t.DialTLSContext = nil
	t.DialTLS = nil //nolint:staticcheck // a cloned transport may carry it; it would bypass the guard
	t.MaxResponseHeaderBytes = 64 << 10
	return &http.Client{
		Transport: t,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return Errorf("too_many_redirects", "stopped after %d redirects", maxRedirects)
			}
			return g.checkURL(req.URL)
		},
	}
}
