package cli

import (
	"fmt"
	"net"

	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/present"
)

// addrInUse is the error of an --addr whose port another process holds:
// which process, when this machine says (oauth.PortHolder), and what to
// do. Other errors come back as they are.
func addrInUse(addr string, err error) error {
	if !oauth.AddrInUse(err) {
		return err
	}
	who := "another process"
	if h := oauth.PortHolder(addr); h != "" {
		who = h
	}
	host, _, splitErr := net.SplitHostPort(addr)
	if splitErr != nil || host == "" {
		host = "127.0.0.1"
	}
	return fmt.Errorf("%s is already in use by %s; stop that process, or listen on another port with --addr %s",
		present.OneLine(addr), who, net.JoinHostPort(host, "PORT"))
}
