package oauth

import (
	"errors"
	"net"
	"strconv"
	"syscall"
)

// AddrInUse reports whether err is a listen's "address already in use":
// another process holds the port.
func AddrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }

// PortHolder names the process that listens on the TCP port of addr
// (host:port) on this machine, as "pid 4242 (keyfob)", or "" when it
// cannot be told: only Linux says (through /proc/net/tcp, /proc/net/tcp6
// and /proc/*/fd), and only of processes the user may look at. Only the
// program's name is given, never its command line, which may hold
// another program's secrets.
func PortHolder(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return ""
	}
	return portHolder(port)
}
