package oauth_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// tlsAccount is a fleet account of the sandbox over TLS, on host (e.g.
// "127.0.0.1"), holding minted tokens.
func tlsAccount(t *testing.T, srv *sandbox.Server, host string) accounts.Account {
	t.Helper()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL(), "https://"))
	if err != nil {
		t.Fatal(err)
	}
	ts := srv.Mint(sandbox.MintRequest{Scopes: []string{"openid", "offline_access"}})
	return accounts.Account{Kind: accounts.KindFleet, ClientID: sandbox.FleetClientID, RefreshToken: ts.RefreshToken,
		Endpoints: accounts.Endpoints{TokenURL: "https://" + net.JoinHostPort(host, port) + "/oauth2/v3/token"}}
}

// A refresh through NewHTTPClient reaches a token endpoint that refuses
// HTTP/1.1 over HTTP/2 and TLS 1.3, as Tesla's owner API wants.
func TestNewHTTPClientSpeaksHTTP2AndTLS13(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{TLS: true, RequireHTTP2: true})
	e := &oauth.Engine{HTTPClient: oauth.NewHTTPClient(10*time.Second, oauth.WithRootCAs(srv.CertPool()))}
	if _, err := e.Refresh(context.Background(), tlsAccount(t, srv, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if got := srv.LastTokenRequest(); got.Proto != "HTTP/2.0" || got.TLSVersion != tls.VersionTLS13 {
		t.Fatalf("the token request came over %s, TLS %#x", got.Proto, got.TLSVersion)
	}
	if c := oauth.NewHTTPClient(time.Minute); c.Timeout != time.Minute {
		t.Errorf("timeout %v", c.Timeout)
	}
}

// connectProxy is an HTTPS proxy for the test: it answers CONNECT by
// piping to the requested port on 127.0.0.1, and records the targets.
type connectProxy struct {
	mu      sync.Mutex
	targets []string
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	p.mu.Lock()
	p.targets = append(p.targets, r.Host)
	p.mu.Unlock()
	_, port, _ := net.SplitHostPort(r.Host)
	upstream, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	_, _ = io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() { _, _ = io.Copy(upstream, buf); upstream.Close() }()
	_, _ = io.Copy(conn, upstream)
	conn.Close()
}

func (p *connectProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...)
}

// NewHTTPClient honours HTTPS_PROXY and NO_PROXY. Go reads them once per
// process, so the test runs in a child process of its own. Loopback
// addresses never go through a proxy; "localhost." (with the root's dot)
// names the sandbox without being one of them.
func TestNewHTTPClientHonoursHTTPSProxy(t *testing.T) {
	if os.Getenv("KEYFOB_TEST_PROXY_CHILD") != "1" {
		t.Parallel() // here it only waits for the child
		cmd := exec.Command(os.Args[0], "-test.run=^TestNewHTTPClientHonoursHTTPSProxy$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "KEYFOB_TEST_PROXY_CHILD=1")
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("the test in a child process: %v\n%s", err, out)
		}
		return
	}
	srv := sandbox.NewTest(t, sandbox.Options{TLS: true, RequireHTTP2: true})
	proxy := &connectProxy{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ps := &http.Server{Handler: proxy}
	go func() { _ = ps.Serve(ln) }()
	t.Cleanup(func() { _ = ps.Close() })
	_, cnPort, _ := net.SplitHostPort(strings.TrimPrefix(srv.CNURL(), "https://"))
	t.Setenv("HTTPS_PROXY", "http://"+ln.Addr().String())
	t.Setenv("NO_PROXY", "localhost.:"+cnPort)

	e := &oauth.Engine{HTTPClient: oauth.NewHTTPClient(10*time.Second, oauth.WithRootCAs(srv.CertPool()))}
	a := tlsAccount(t, srv, "localhost.")
	if _, err := e.Refresh(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if got := proxy.seen(); len(got) != 1 || !strings.HasPrefix(got[0], "localhost.:") {
		t.Fatalf("the proxy saw %q", got)
	}
	if got := srv.LastTokenRequest(); got.Proto != "HTTP/2.0" || got.TLSVersion != tls.VersionTLS13 {
		t.Errorf("through the proxy the token request came over %s, TLS %#x", got.Proto, got.TLSVersion)
	}
	// NO_PROXY names the China host: its request goes direct (and may fail
	// to resolve "localhost."), never through the proxy.
	a.Endpoints.TokenURL = "https://localhost.:" + cnPort + "/oauth2/v3/token"
	_, _ = e.Refresh(context.Background(), a)
	if got := proxy.seen(); len(got) != 1 {
		t.Fatalf("NO_PROXY was ignored: the proxy saw %q", got)
	}
}
