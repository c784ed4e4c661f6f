package oauth

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"time"
)

// ClientOption changes the transport NewHTTPClient builds.
type ClientOption func(*http.Transport)

// WithRootCAs makes the client trust the certificates of pool instead of
// the system's roots: for tests against the sandbox over TLS
// (sandbox.Server.CertPool), never for Tesla.
func WithRootCAs(pool *x509.CertPool) ClientOption {
	return func(t *http.Transport) { t.TLSClientConfig.RootCAs = pool }
}

// NewHTTPClient returns the HTTP client keyfob talks to servers with; main
// builds the Engine's client with it. Every request is bounded by timeout
// (none when it is 0). The transport is Go's default one, cloned: it
// negotiates HTTP/2 through ALPN with any host and TLS 1.3 where the host
// offers it (TLS 1.2 at least), and it honours HTTPS_PROXY, HTTP_PROXY and
// NO_PROXY. Tesla's owner API refuses tokens minted over HTTP/1.1
// (TESLA.md §7), so nothing here may turn HTTP/2 off: a transport with its
// own TLS configuration negotiates HTTP/2 only with ForceAttemptHTTP2.
func NewHTTPClient(timeout time.Duration, opts ...ClientOption) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ForceAttemptHTTP2 = true
	t.Proxy = http.ProxyFromEnvironment
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.MinVersion = tls.VersionTLS12
	for _, o := range opts {
		o(t)
	}
	return &http.Client{Transport: t, Timeout: timeout}
}
