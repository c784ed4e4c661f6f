package sandbox

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// chinaKey marks, in a request's context, the requests of the China host.
type chinaKey struct{}

// isChina reports whether r reached the China host.
func isChina(r *http.Request) bool {
	cn, _ := r.Context().Value(chinaKey{}).(bool)
	return cn
}

// serve starts an HTTP server for h on ln, as the China host when cn.
func (s *Server) serve(ln net.Listener, h http.Handler, cn bool) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithValue(context.Background(), chinaKey{}, cn) },
		// The sandbox logs nothing: a client hanging up on a fault is
		// expected, and no line may ever carry a token.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	s.servers = append(s.servers, srv)
	if s.tlsConfig == nil {
		go func() { _ = srv.Serve(ln) }()
		return
	}
	// ServeTLS, unlike Serve on a TLS listener, sets HTTP/2 up.
	srv.TLSConfig = s.tlsConfig.Clone()
	go func() { _ = srv.ServeTLS(ln, "", "") }()
}

// CNURL returns the base URL of the China host, the sandbox's
// auth.tesla.cn: another loopback port serving the same endpoints. A China
// user's authorize request at URL() is redirected there, and the codes,
// refresh tokens and discovery document it serves are its own.
func (s *Server) CNURL() string { return s.cnURL }

// CNIssuer returns the OpenID issuer of the China host, CNURL()+"/oauth2/v3":
// the iss of the tokens it mints and the issuer parameter of its
// callbacks.
func (s *Server) CNIssuer() string { return s.cnURL + "/oauth2/v3" }

// baseOf returns the base URL of the China host when cn, else the main one.
func (s *Server) baseOf(cn bool) string {
	if cn {
		return s.cnURL
	}
	return s.url
}

// issuerOf returns the issuer of the China host when cn, else the main one.
func (s *Server) issuerOf(cn bool) string { return s.baseOf(cn) + "/oauth2/v3" }

// FleetAPIBase returns the sandbox's Fleet API base URL of a region,
// URL()+"/fleet-api/"+lower(region), e.g. ".../fleet-api/eu": the first
// aud entry of the region's users' access tokens, and where users/region,
// users/me and partner_accounts are served.
func (s *Server) FleetAPIBase(region string) string {
	return s.url + "/fleet-api/" + strings.ToLower(region)
}

// chinaRedirect returns where an authorize request q at the main host goes
// when it names a China user — by login_hint, or by the email of a
// submitted login form — and false when it stays. Like Tesla, the same
// request goes on at the China host; a form's password is not carried
// over, its email becomes the login_hint.
func (s *Server) chinaRedirect(q url.Values, email string) (string, bool) {
	u, ok := s.userByEmail(email)
	if !ok || u.Region != "CN" {
		return "", false
	}
	next := url.Values{}
	for k, v := range q {
		if k != "email" && k != "password" && k != "cancel" {
			next[k] = v
		}
	}
	next.Set("login_hint", u.Email)
	return s.cnURL + "/oauth2/v3/authorize?" + next.Encode(), true
}
