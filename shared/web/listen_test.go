package web

import (
	"strings"
	"testing"
)

func TestListenBusyPortNamesSPASSADDR(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Listen(ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "set SPASS_ADDR to a free address") || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("error %v, want one naming the address and SPASS_ADDR", err)
	}
}
