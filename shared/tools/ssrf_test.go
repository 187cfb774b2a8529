package tools

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// fakeDNS returns a resolver whose every query goes to a DNS server on loopback
// that answers A (or AAAA) queries with ip. Tests resolve names through it, so no
// lookup ever leaves the machine.
func fakeDNS(t *testing.T, ip netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], ip); resp != nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

// dnsAnswer builds the reply to a one-question DNS query (RFC 1035 §4.1).
func dnsAnswer(q []byte, ip netip.Addr) []byte {
	if len(q) < 12 {
		return nil
	}
	off := 12
	for off < len(q) && q[off] != 0 {
		off += int(q[off]) + 1
	}
	off++
	if off+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[off:])
	off += 4
	match := qtype == 1 && ip.Is4() || qtype == 28 && ip.Is6()
	resp := append([]byte{q[0], q[1], 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0}, q[12:off]...)
	if match {
		resp[7] = 1
		rdata := ip.AsSlice()
		resp = append(resp, 0xc0, 12, q[off-4], q[off-3], 0, 1, 0, 0, 0, 60, 0, byte(len(rdata)))
		resp = append(resp, rdata...)
	}
	return resp
}

// canary is a TCP listener on loopback that nothing should reach. connected reports
// whether a connection was made to it: a completed connect(2) sits in the accept
// queue before the dialer returns, so checking after the refusal is not racy.
func canary(t *testing.T) (port string, connected func() bool) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, func() bool {
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(50 * time.Millisecond))
		c, err := ln.Accept()
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
}

func TestAddrClass(t *testing.T) {
	g := newFetchGuard(nil)
	refused := []string{
		"127.0.0.1", "127.255.255.254", "::1", // loopback
		"10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "fc00::1", "fd00:ec2::254", // private, AWS IPv6 metadata
		"169.254.169.254", "169.254.0.1", "fe80::1", "fe80::1%eth0", // link-local, metadata
		"0.0.0.0", "::", "0.1.2.3", // unspecified, "this network"
		"100.64.0.1", "100.100.100.200", // CGNAT, Alibaba metadata
		"224.0.0.1", "239.255.255.250", "ff02::1", // multicast
		"255.255.255.255", "240.0.0.1", "192.0.0.170", "198.18.0.1", "192.0.2.1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0", // IPv4-mapped
		"::127.0.0.1", "64:ff9b::a00:1", "2002:7f00:1::1", "2001:0:7f00:1::1", "fec0::1", "2001:db8::1",
	}
	for _, s := range refused {
		if why := g.addrClass(netip.MustParseAddr(s)); why == "" {
			t.Errorf("%s is allowed, want refused", s)
		}
	}
	public := []string{"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "192.169.0.1", "2606:4700:4700::1111", "2a00:1450:4001::1", "::ffff:8.8.8.8"}
	for _, s := range public {
		if why := g.addrClass(netip.MustParseAddr(s)); why != "" {
			t.Errorf("%s refused as %s, want allowed", s, why)
		}
	}
}

func TestCheckHost(t *testing.T) {
	g := newFetchGuard([]string{"Wiki.Internal", "127.0.0.1:8080", "[::1]:9090"})
	refused := []string{
		"localhost", "LOCALHOST.", "api.localhost", "ip6-localhost", "metadata.google.internal", "metadata", "instance-data",
		"2130706433", "0x7f.0.0.1", "0x7f000001", "0177.0.0.1", "127.1", "0", "10.1", "::1", "[::1]",
	}
	for _, h := range refused {
		mustToolErr(t, g.checkHost(h, "80"), "blocked_address")
	}
	for _, h := range []string{"example.com", "go.dev", "xn--bcher-kva.example", "1.example.com", "wiki.internal"} {
		if err := g.checkHost(h, "80"); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	allowed := []struct {
		host, port string
		want       bool
	}{
		{"wiki.internal", "443", true}, {"WIKI.internal.", "8443", true},
		{"127.0.0.1", "8080", true}, {"127.0.0.1", "8081", false},
		{"::1", "9090", true}, {"::1", "80", false}, {"localhost", "8080", false},
	}
	for _, a := range allowed {
		if got := g.allowed(a.host, a.port); got != a.want {
			t.Errorf("allowed(%s, %s) = %v, want %v", a.host, a.port, got, a.want)
		}
	}
}

// TestControlRefusesBeforeConnect proves the dial-time check runs before
// connect(2): the canary sees a plain dial but never a guarded one.
func TestControlRefusesBeforeConnect(t *testing.T) {
	g := newFetchGuard(nil)
	ctx := context.Background()
	port, connected := canary(t)

	guarded := &net.Dialer{Control: g.control}
	_, err := guarded.DialContext(ctx, "tcp", "127.0.0.1:"+port)
	te := mustToolErr(t, err, "blocked_address")
	if !strings.Contains(te.Message, "127.0.0.1, a loopback address") {
		t.Errorf("message = %q", te.Message)
	}
	if connected() {
		t.Fatal("the guarded dialer connected to loopback")
	}

	t.Run("a name that resolves to loopback", func(t *testing.T) {
		dial := g.dialer(fakeDNS(t, netip.MustParseAddr("127.0.0.1")))
		_, err := dial(ctx, "tcp", "rebind.test:"+port)
		te := mustToolErr(t, err, "blocked_address")
		if !strings.Contains(te.Message, "resolves to 127.0.0.1") {
			t.Errorf("message = %q, want the dial-time refusal", te.Message)
		}
		if connected() {
			t.Fatal("connected to loopback through DNS")
		}
	})

	t.Run("the canary does see a plain dial", func(t *testing.T) {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if !connected() {
			t.Fatal("canary missed a connection: the negative checks above prove nothing")
		}
	})

	t.Run("non-TCP networks are refused", func(t *testing.T) {
		mustToolErr(t, g.control("udp4", "127.0.0.1:53", nil), "blocked_address")
		mustToolErr(t, g.control("tcp6", "[::1]:80", nil), "blocked_address")
		mustToolErr(t, g.control("tcp6", "[::ffff:169.254.169.254]:80", nil), "blocked_address")
		mustToolErr(t, g.control("tcp4", "not an address", nil), "blocked_address")
		if err := g.control("tcp4", "93.184.216.34:443", nil); err != nil {
			t.Errorf("public address refused: %v", err)
		}
	})
}
