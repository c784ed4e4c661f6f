package sandbox

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// refreshWith refreshes rt at base with client and returns the answer and
// the protocol it came over.
func refreshWith(t *testing.T, c *http.Client, base, rt string) (response, string) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {FleetClientID}, "refresh_token": {rt}}
	req, err := http.NewRequest(http.MethodPost, base+"/oauth2/v3/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the refresh answer: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}, resp.Proto
}

// http1Client trusts s but speaks only HTTP/1.1 (a customised transport
// without ForceAttemptHTTP2), capped at TLS version max when not 0.
func http1Client(s *Server, maxVersion uint16) *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: s.CertPool(), MaxVersion: maxVersion},
	}}
}

func TestTLSWithHTTP2(t *testing.T) {
	s := NewTest(t, Options{TLS: true, RefreshGrace: 24 * time.Hour})
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") || !strings.HasPrefix(s.CNURL(), "https://127.0.0.1:") ||
		!strings.HasPrefix(s.FleetAPIBase("na"), "https://") || !strings.HasPrefix(s.Issuer(), "https://") {
		t.Fatalf("URL %s CNURL %s", s.URL(), s.CNURL())
	}
	rt := s.Mint(MintRequest{Scopes: []string{"offline_access"}}).RefreshToken
	r, proto := refreshWith(t, s.Client(), s.URL(), rt)
	if r.status != 200 || proto != "HTTP/2.0" {
		t.Fatalf("refresh over %s: %d %s", proto, r.status, r.body)
	}
	if got := s.LastTokenRequest(); got != (TransportInfo{Proto: "HTTP/2.0", TLSVersion: tls.VersionTLS13}) {
		t.Errorf("LastTokenRequest %+v", got)
	}
	// TLS 1.2 still negotiates HTTP/2.
	r, proto = refreshWith(t, &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{RootCAs: s.CertPool(), MaxVersion: tls.VersionTLS12}}}, s.URL(), rt)
	if r.status != 200 || proto != "HTTP/2.0" || s.LastTokenRequest().TLSVersion != tls.VersionTLS12 {
		t.Errorf("TLS 1.2: %s %d %+v", proto, r.status, s.LastTokenRequest())
	}
	// The China host is served the same way.
	resp, err := s.Client().Get(s.CNURL() + "/.well-known/openid-configuration")
	if err != nil || resp.Proto != "HTTP/2.0" {
		t.Fatalf("China host: %v", err)
	}
	resp.Body.Close()
}

func TestTLSCertificate(t *testing.T) {
	s := NewTest(t, Options{TLS: true})
	if NewTest(t, Options{}).CertPool() != nil {
		t.Error("a plain HTTP sandbox has a CertPool")
	}
	addr := strings.TrimPrefix(s.URL(), "https://")
	for _, name := range []string{"127.0.0.1", "localhost"} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: s.CertPool(), ServerName: name, NextProtos: []string{"h2"}})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if st := conn.ConnectionState(); st.NegotiatedProtocol != "h2" {
			t.Errorf("%s: ALPN %q", name, st.NegotiatedProtocol)
		}
		conn.Close()
	}
	// Old TLS is refused, and an untrusting client fails.
	if conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: s.CertPool(), MaxVersion: tls.VersionTLS11}); err == nil {
		conn.Close()
		t.Error("TLS 1.1 accepted")
	}
	if resp, err := http.Get(s.URL() + "/.well-known/openid-configuration"); err == nil {
		resp.Body.Close()
		t.Error("an untrusting client connected")
	}

	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback here")
	}
	ln.Close()
	s6, err := StartAt("[::1]:0", Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s6.Close()
	resp, err := s6.Client().Get(s6.CNURL() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("IPv6 over TLS: %v", err)
	}
	resp.Body.Close()
}

func TestRequireHTTP2(t *testing.T) {
	s := NewTest(t, Options{TLS: true, RequireHTTP2: true})
	ts := s.Mint(MintRequest{Scopes: []string{"offline_access"}})
	s.FailNext(FaultRateLimit, 1)
	r, proto := refreshWith(t, http1Client(s, 0), s.URL(), ts.RefreshToken)
	if proto != "HTTP/1.1" || r.status != 403 || string(r.body) != `{"error":"http2_required","error_description":"Token requests must be sent over HTTP/2."}` {
		t.Fatalf("HTTP/1.1: %s %d %s", proto, r.status, r.body)
	}
	if got := s.LastTokenRequest(); got.Proto != "HTTP/1.1" || got.TLSVersion != tls.VersionTLS13 {
		t.Errorf("LastTokenRequest %+v", got)
	}
	if !s.RefreshTokenLive(ts.RefreshToken) || s.Stats().Failures != 0 {
		t.Fatal("a refused request consumed the token or the fault")
	}
	// Over HTTP/2 the queued fault comes first, then the grant.
	if r, _ := refreshWith(t, s.Client(), s.URL(), ts.RefreshToken); r.status != 429 {
		t.Fatalf("queued fault: %d %s", r.status, r.body)
	}
	if r, _ := refreshWith(t, s.Client(), s.URL(), ts.RefreshToken); r.status != 200 {
		t.Fatalf("HTTP/2: %d %s", r.status, r.body)
	}
	// Other endpoints do not care.
	resp, err := http1Client(s, 0).Get(s.URL() + "/.well-known/openid-configuration")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("discovery over HTTP/1.1: %v", err)
	}
	resp.Body.Close()
}

func TestRequireHTTP2WithoutTLSRefusesEveryTokenRequest(t *testing.T) {
	s := NewTest(t, Options{RequireHTTP2: true})
	u := s.User()
	if r := refresh(t, s, FleetClientID, s.Mint(MintRequest{}).RefreshToken); r.status != 403 || r.str(t, "error") != "http2_required" {
		t.Errorf("v3: %d %s", r.status, r.body)
	}
	r := postJSON(t, s.URL()+"/oauth/token", map[string]string{"grant_type": "password", "client_id": LegacyClientID,
		"client_secret": LegacyClientSecret, "email": u.Email, "password": u.Password})
	if r.status != 403 || r.str(t, "error") != "http2_required" {
		t.Errorf("legacy: %d %s", r.status, r.body)
	}
	if got := s.LastTokenRequest(); got != (TransportInfo{Proto: "HTTP/1.1"}) {
		t.Errorf("LastTokenRequest %+v", got)
	}
}

func TestSignInOverTLS(t *testing.T) {
	s := NewTest(t, Options{TLS: true, Users: []User{cnUser}})
	_, challenge := pkce("tls")
	q := authorizeParams("ownerapi", OwnerRedirectURI, challenge, "openid email offline_access")
	q.Set("login_hint", cnUser.Email)
	landed, err := s.SignIn(context.Background(), s.Issuer()+"/authorize?"+q.Encode())
	if u, _ := url.Parse(landed); err != nil || u.Query().Get("issuer") != s.CNIssuer() || u.Query().Get("code") == "" {
		t.Fatalf("landed on %s: %v", landed, err)
	}
}
