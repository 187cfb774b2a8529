package web

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// AddrEnv is the variable that moves a server's address (config: listen).
const AddrEnv = "SPASS_ADDR"

// Listen listens on the TCP address addr. An address already in use (another
// gateway, a second `make run`) is an error that says how to move it.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is already in use (is another gateway running?): set %s to a free address, e.g. %s=127.0.0.1:8081", addr, AddrEnv, AddrEnv)
	}
	return ln, err
}
