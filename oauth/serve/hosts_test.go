package serve_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client"
	"golang.org/x/oauth2"

	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/serve"
)

// withHost is a request for path on the service with its Host header set
// to host.
func (f *fixture) withHost(method, path, host string) *http.Request {
	f.t.Helper()
	req, err := http.NewRequest(method, f.base+path, nil)
	must(f.t, err == nil, "%v", err)
	req.Host = host
	return req
}

// TestOnlyItsOwnHostNamesAreAnswered (DNS rebinding): a page of an
// attacker's name that resolves to 127.0.0.1 makes the browser send that
// name as the Host; the service answers only the names it listens on
// (the address, localhost for loopback, the certificate's names) and
// those given with --allow-host, and refuses any other with 421 before
// looking at the credential.
func TestOnlyItsOwnHostNamesAreAnswered(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("000000a1", "car", -time.Minute))
	cred := f.add("tm", "car")
	ln, err := serve.Listen(serve.ListenConfig{Addr: "127.0.0.1:0", AllowHosts: []string{"host.docker.internal"}})
	must(t, err == nil, "%v", err)
	must(t, ln.Hosts() == "127.0.0.1, localhost, host.docker.internal", "hosts %q", ln.Hosts())
	f.serveOn(ln, serve.Options{})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(f.base, "http://"))
	for host, want := range map[string]int{
		"127.0.0.1:" + port: 200, "localhost:" + port: 200, "LOCALHOST.:" + port: 200, "localhost": 200,
		"host.docker.internal:" + port:    200,
		"rebind.attacker.example:" + port: 421, "rebind.attacker.example": 421, "127.0.0.2:" + port: 421,
		"localhost.attacker.example": 421, "[::1]:" + port: 421,
	} {
		req := f.withHost(http.MethodGet, serve.TokenByName+"car", host)
		req.Header.Set("Authorization", "Bearer "+cred)
		r := f.do(req)
		if r.status != want {
			t.Errorf("Host %s: %d %s, want %d", host, r.status, r.raw, want)
		}
		if want == 421 && (r.str("error") != "invalid_request" || !strings.Contains(r.str("error_description"), "--allow-host")) {
			t.Errorf("Host %s: the refusal does not say what to do: %s", host, r.raw)
		}
	}
	// The refused requests reached nothing: one refresh, for the first
	// answered one.
	must(t, f.srv.Stats().Refreshes == 1, "%d refreshes", f.srv.Stats().Refreshes)
	must(t, strings.Contains(f.log.String(), "status=421 outcome=wrong_host"), "log:\n%s", f.log.String())
	for _, bad := range []string{"http://x", "a b", "x/y", ""} {
		if _, err := serve.Listen(serve.ListenConfig{Addr: "127.0.0.1:0", AllowHosts: []string{bad}}); err == nil ||
			!strings.Contains(err.Error(), "--allow-host") {
			t.Errorf("--allow-host %q: %v", bad, err)
		}
	}
}

// TestTLSAnswersTheCertificateNames: over TLS the names of the
// certificate are answered; a listener on every address (0.0.0.0) answers
// the addresses of this machine but not a stranger's name.
func TestTLSAnswersTheCertificateNames(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("000000a1", "car", time.Hour))
	cred := f.add("tm", "car")
	certFile, keyFile, pool := selfSigned(t)
	ln, err := serve.Listen(serve.ListenConfig{Addr: "0.0.0.0:0", TLSCert: certFile, TLSKey: keyFile})
	must(t, err == nil, "%v", err)
	must(t, strings.HasPrefix(ln.Hosts(), "localhost, 127.0.0.1"), "hosts %q", ln.Hosts())
	f.serveOn(ln, serve.Options{})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(ln.URL, "https://"))
	f.base = "https://127.0.0.1:" + port
	f.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	for host, want := range map[string]int{"localhost:" + port: 200, "127.0.0.1:" + port: 200, "keyfob.attacker.example": 421} {
		req := f.withHost(http.MethodGet, serve.TokenByName+"car", host)
		req.Header.Set("Authorization", "Bearer "+cred)
		if r := f.do(req); r.status != want {
			t.Errorf("Host %s: %d %s, want %d", host, r.status, r.raw, want)
		}
	}
}

// TestDiscovery: /.well-known/openid-configuration names the issuer (the
// address the client used), the token endpoint and the grant, nothing
// more; zitadel/oidc's client.Discover accepts it (it checks the issuer),
// and golang.org/x/oauth2 then gets a token at the endpoint it found.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("000000a1", "car", time.Hour))
	cred := f.add("oidc-app", "car")
	f.start(serve.Options{})
	r := f.do(newRequest(t, http.MethodGet, f.base+serve.DiscoveryPath))
	grants, _ := r.body["grant_types_supported"].([]any)
	must(t, r.status == 200 && r.str("issuer") == f.base && r.str("token_endpoint") == f.base+serve.TokenPath &&
		len(grants) == 1 && grants[0] == "refresh_token" && len(r.body) == 3, "discovery: %d %s", r.status, r.raw)
	// Under another name of this machine, the issuer follows.
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(f.base, "http://"))
	r = f.do(f.withHost(http.MethodGet, serve.DiscoveryPath, "localhost:"+port))
	must(t, r.str("issuer") == "http://localhost:"+port, "issuer %q", r.str("issuer"))
	must(t, f.do(newRequest(t, http.MethodPost, f.base+serve.DiscoveryPath)).status == 405, "POST answered")

	ctx := context.Background()
	cfg, err := client.Discover(ctx, f.base, f.client)
	must(t, err == nil, "zitadel/oidc Discover: %v", err)
	must(t, cfg.TokenEndpoint == f.base+serve.TokenPath, "token endpoint %q", cfg.TokenEndpoint)
	o := oauth2.Config{ClientID: "oidc-app", Endpoint: oauth2.Endpoint{TokenURL: cfg.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams}}
	tok, err := o.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, f.client), &oauth2.Token{RefreshToken: cred}).Token()
	must(t, err == nil && tok.AccessToken == f.account("car").AccessToken, "token: %v", err)
}
