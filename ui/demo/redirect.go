package demo

import (
	"fmt"
	"net"
)

// FreeRedirectURI returns a loopback redirect URI on a port free now,
// http://127.0.0.1:PORT/callback: what a Fleet API app registers for
// keyfob to catch its sign-ins. The sandbox's Fleet client gets it
// registered, as Tesla requires, so the demo and `keyfob sandbox` show a
// login as it really goes.
func FreeRedirectURI() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("no free loopback port for the sandbox app's redirect URI: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return "", err
	}
	return fmt.Sprintf("http://127.0.0.1:%d/callback", port), nil
}
