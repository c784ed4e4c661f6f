package serve

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"strings"
)

// hostSet is the host names a TCP listener answers: a request whose Host
// header names another is refused (421). A web page that an attacker's DNS
// name rebinds to this machine's address would otherwise reach the service
// from the user's own browser, as a page of the attacker's origin; the
// browser sends that name as the Host.
type hostSet struct {
	names []string // lower case, IPs in canonical form, in the order they are shown
}

// allowedHosts is what a TCP listener at addr (as listened on, the host as
// given in --addr) answers: the address itself, localhost when it is
// loopback, every address of this machine when it is unspecified (0.0.0.0
// or ::), the names and addresses of the TLS certificate, and extra (from
// --allow-host).
func allowedHosts(given string, addr *net.TCPAddr, cfg *tls.Config, extra []string) (*hostSet, error) {
	h := &hostSet{}
	if given != "" && net.ParseIP(strings.Trim(given, "[]")) == nil {
		h.add(given)
	}
	switch {
	case addr.IP.IsUnspecified():
		h.add("localhost")
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok {
					h.add(ipn.IP.String())
				}
			}
		}
	case addr.IP.IsLoopback():
		h.add(addr.IP.String())
		h.add("localhost")
	default:
		h.add(addr.IP.String())
	}
	if cfg != nil {
		for _, c := range cfg.Certificates {
			if leaf, err := x509.ParseCertificate(c.Certificate[0]); err == nil {
				for _, n := range leaf.DNSNames {
					h.add(n)
				}
				for _, ip := range leaf.IPAddresses {
					h.add(ip.String())
				}
			}
		}
	}
	for _, n := range extra {
		n = strings.TrimSpace(n)
		if n == "" || (strings.ContainsAny(n, "/:@ \t?#") && net.ParseIP(strings.Trim(n, "[]")) == nil) {
			return nil, fmt.Errorf("--allow-host %q is not a host name: give the name alone, as in --allow-host host.docker.internal", n)
		}
		h.add(n)
	}
	return h, nil
}

// normalHost is a host name or address as hostSet compares it: without a
// port or brackets or a final dot, in lower case, an IP in canonical form.
func normalHost(host string) string {
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if ip := net.ParseIP(host); ip != nil {
		return ip.String()
	}
	return host
}

func (h *hostSet) add(name string) {
	if n := normalHost(name); n != "" && !slices.Contains(h.names, n) {
		h.names = append(h.names, n)
	}
}

// allows reports whether a request with this Host header is answered. A
// nil set (a Unix socket, which no browser reaches) allows every one; a
// request without a Host (HTTP/1.0) comes from no browser either.
func (h *hostSet) allows(host string) bool {
	return h == nil || host == "" || slices.Contains(h.names, normalHost(host))
}

// String lists the names, for the user.
func (h *hostSet) String() string { return strings.Join(h.names, ", ") }
