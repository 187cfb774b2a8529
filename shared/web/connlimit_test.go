package web

import (
	"net"
	"testing"
)

// TestClientAddr: one client is one key, whichever form its address takes, and an
// IPv6 host cannot escape its bound by using the other addresses of its /64.
func TestClientAddr(t *testing.T) {
	key := func(s string) string { return clientAddr(&net.TCPAddr{IP: net.ParseIP(s)}).String() }
	for _, tc := range []struct{ a, b string }{
		{"192.0.2.7", "::ffff:192.0.2.7"},
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
	} {
		if key(tc.a) != key(tc.b) {
			t.Errorf("%s and %s count as two clients (%s, %s)", tc.a, tc.b, key(tc.a), key(tc.b))
		}
	}
	if key("2001:db8:1:2::1") == key("2001:db8:1:3::1") || key("192.0.2.7") == key("192.0.2.8") {
		t.Error("different clients share a key")
	}
}
