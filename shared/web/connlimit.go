package web

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"spass/shared/apierr"
)

// limitListener bounds the open connections in all and per client IP address. A
// connection over a bound is answered with a 429 and closed at once, before any
// request is read: thousands of idle keep-alive connections from one client then
// cost the server a few file descriptors each for an instant, not for ever.
type limitListener struct {
	net.Listener
	l       Limits
	cuts    *cutter
	refusal []byte // the whole HTTP response a refused connection gets

	mu     sync.Mutex
	open   int
	byAddr map[netip.Addr]int
}

func newLimitListener(ln net.Listener, l Limits, cuts *cutter) *limitListener {
	body := apierr.E(apierr.TooManyConns, "", nil).Body()
	refusal := fmt.Appendf(nil, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"+
		"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	return &limitListener{Listener: ln, l: l, cuts: cuts, refusal: refusal, byAddr: map[netip.Addr]int{}}
}

// Accept returns the next connection within the bounds, refusing the others.
func (ln *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := clientAddr(c.RemoteAddr())
		if reason := ln.admit(addr); reason != "" {
			ln.refuse(c)
			ln.cuts.cut(reason, c.RemoteAddr().String())
			continue
		}
		return &trackedConn{Conn: c, ln: ln, addr: addr}, nil
	}
}

// admit counts a new connection from addr, or says which bound it is over.
func (ln *limitListener) admit(addr netip.Addr) string {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if ln.l.MaxConns > 0 && ln.open >= ln.l.MaxConns {
		return CutConns
	}
	if ln.l.MaxConnsPerClient > 0 && ln.byAddr[addr] >= ln.l.MaxConnsPerClient {
		return CutClientConns
	}
	ln.open++
	ln.byAddr[addr]++
	return ""
}

func (ln *limitListener) release(addr netip.Addr) {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	ln.open--
	if ln.byAddr[addr]--; ln.byAddr[addr] <= 0 {
		delete(ln.byAddr, addr)
	}
}

// refuse answers c with the 429 and closes it. The write goes to an empty socket
// buffer, so it does not block; the deadline is there for the case it would.
func (ln *limitListener) refuse(c net.Conn) {
	c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	c.Write(ln.refusal)
	c.Close()
}

// connState notes when each connection went idle, so that closing one that stayed
// idle for the whole IdleTimeout is counted as an idle cut.
func (ln *limitListener) connState(c net.Conn, s http.ConnState) {
	tc, ok := c.(*trackedConn)
	if !ok {
		return
	}
	switch s {
	case http.StateIdle:
		tc.idleSince.Store(time.Now().UnixNano())
	case http.StateActive:
		tc.idleSince.Store(0)
	case http.StateClosed:
		if since := tc.idleSince.Load(); since != 0 && time.Since(time.Unix(0, since)) >= ln.l.Idle*9/10 {
			ln.cuts.cut(CutIdle, c.RemoteAddr().String())
		}
	}
}

// clientAddr is the client a connection counts against: its IPv4 address, or the
// /64 of its IPv6 address (one host commonly holds a whole /64). IPv4 in IPv6 is
// unmapped, so one client is one key; a non-IP address is one shared key.
func clientAddr(a net.Addr) netip.Addr {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return netip.Addr{}
	}
	if ip = ip.Unmap(); ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip
}

// trackedConn gives its slot back when closed.
type trackedConn struct {
	net.Conn
	ln        *limitListener
	addr      netip.Addr
	once      sync.Once
	idleSince atomic.Int64 // unix nanoseconds; 0 while a request is active
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.ln.release(c.addr) })
	return err
}
