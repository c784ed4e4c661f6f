package cli

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// keyHost is an app's domain on loopback: it serves a public key at
// fleetapi.KeyPath over TLS.
type keyHost struct {
	srv  *httptest.Server
	mu   sync.Mutex
	body []byte
}

func newKeyHost(t *testing.T) *keyHost {
	h := &keyHost{}
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.URL.Path != fleetapi.KeyPath || h.body == nil {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(h.body)
	}))
	h.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	h.srv.StartTLS()
	t.Cleanup(h.srv.Close)
	return h
}

func (h *keyHost) domain() string { return h.srv.Listener.Addr().String() }

// serve makes the domain serve the PEM of pub (nil: nothing) and returns
// its point in hex.
func (h *keyHost) serve(t *testing.T, pub any) string {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if pub == nil {
		h.body = nil
		return ""
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	h.body = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	if k, ok := pub.(*ecdh.PublicKey); ok {
		return hex.EncodeToString(k.Bytes())
	}
	return ""
}

func (h *keyHost) serveRaw(b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.body = b
}

// partnerEnv is a sandbox that fetches keys from a keyHost, and keyfob
// with a client that trusts it.
func partnerEnv(t *testing.T) (*env, *keyHost) {
	h := newKeyHost(t)
	e := newEnv(t, sandbox.Options{PartnerHTTPClient: h.srv.Client()})
	e.client = h.srv.Client()
	return e, h
}

// loginPartner adds a partner account of region through keyfob login.
func (e *env) loginPartner(name, region string) {
	e.t.Helper()
	r := e.runEnv("", map[string]string{EnvClientSecret: sandbox.PartnerSecret}, "login", "--kind", "partner",
		"--issuer", e.srv.URL(), "--client-id", sandbox.PartnerClientID, "--region", region,
		"--audience", e.srv.FleetAPIBase(region), "--name", name)
	if r.code != 0 {
		e.t.Fatalf("partner login: exit %d %s", r.code, r.stderr)
	}
}

func TestPartnerRegisterAndCheck(t *testing.T) {
	t.Parallel()
	e, h := partnerEnv(t)
	key, _ := ecdh.P256().GenerateKey(rand.Reader)
	point := h.serve(t, key.PublicKey())
	d := h.domain()

	if r := e.run("", "partner", "register", "--domain", d); r.code != 3 ||
		!strings.Contains(r.stderr, "there is no partner account to get a partner token from; add one with KEYFOB_CLIENT_SECRET=… keyfob login --kind partner") {
		t.Fatalf("no partner account: exit %d %s", r.code, r.stderr)
	}
	e.seed(e.minted("a0000001", "car", 0))
	e.loginPartner("biz", "eu")

	r := e.run("", "partner", "check", "--domain", d)
	if r.code != 1 || !strings.Contains(r.stdout, "not registered") ||
		!strings.Contains(r.stderr, "Tesla holds no key for "+d+" in region eu, na (404); register it with keyfob partner register --domain "+d) {
		t.Fatalf("before registering: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = e.mustRun("", "partner", "register", "--domain", strings.ToUpper(d))
	if !strings.Contains(r.stdout, "Registered "+d+" with Tesla in region eu ("+e.srv.FleetAPIBase("eu")+")") ||
		!strings.Contains(r.stdout, "public key  "+point) || !strings.Contains(r.stdout, "account id") {
		t.Fatalf("register: %s", r.stdout)
	}
	if got, ok := e.srv.PartnerPublicKey("eu", d); !ok || hex.EncodeToString(got) != point {
		t.Fatal("the sandbox has no key for the domain")
	}
	r = e.mustRun("", "partner", "check", "--domain", d, "--account", "biz")
	if !strings.Contains(r.stdout, "✓ match") || !strings.Contains(r.stdout, point) {
		t.Fatalf("check: %s", r.stdout)
	}
	// A new key on the domain: mismatch until registered again.
	other, _ := ecdh.P256().GenerateKey(rand.Reader)
	h.serve(t, other.PublicKey())
	r = e.run("", "partner", "check", "--domain", d)
	if r.code != 1 || !strings.Contains(r.stdout, "✗ mismatch") || !strings.Contains(r.stderr, "register again to update it") {
		t.Fatalf("mismatch: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	e.mustRun("", "partner", "register", "--domain", d)
	e.mustRun("", "partner", "check", "--domain", d)
	// keyfob check proves a partner token too, at a partner endpoint:
	// Tesla's user endpoints refuse it.
	r = e.mustRun("", "check", "biz")
	if !strings.Contains(r.stdout, "partner_accounts/fleet_telemetry_errors  200") || strings.Contains(r.stdout, "users/region  ") ||
		!strings.Contains(r.stdout, "users/region and users/me not called") || !strings.Contains(r.stdout, "✓ the token works") {
		t.Fatalf("check of the partner account: %s", r.stdout)
	}
}

func TestPartnerBadInput(t *testing.T) {
	t.Parallel()
	e, h := partnerEnv(t)
	e.seed(e.minted("a0000001", "car", 0))
	e.loginPartner("biz", "na")
	d := h.domain()
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)

	for _, tc := range []struct {
		name  string
		serve func()
		args  []string
		code  int
		want  string
	}{
		{"RSA key", func() { h.serve(t, &rsaKey.PublicKey) }, nil, 1, "is an RSA key (2048 bits), but Tesla takes only EC keys on secp256r1"},
		{"P-384 key", func() { h.serve(t, &p384.PublicKey) }, nil, 1, "is an EC key on P-384"},
		{"not PEM", func() { h.serveRaw([]byte("hello")) }, nil, 1, "is not PEM"},
		{"private key", func() { h.serveRaw(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1}})) }, nil, 1, "take it down at once"},
		{"no key", func() { h.serve(t, nil) }, nil, 1, "is not there: the domain answered 404 Not Found"},
		{"unknown domain", nil, []string{"--domain", "keyfob-test.invalid"}, 1, "cannot fetch the public key of keyfob-test.invalid"},
		{"not a domain", nil, []string{"--domain", "https://example.com/x"}, 2, "is not a domain"},
		{"no domain", nil, []string{"--domain", ""}, 2, "--domain is required"},
		{"not a partner account", nil, []string{"--domain", d, "--account", "car"}, 2, `"car" is a fleet account`},
		{"no such account", nil, []string{"--domain", d, "--account", "nobody"}, 3, "no account matches"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.serve != nil {
				tc.serve()
			}
			args := tc.args
			if args == nil {
				args = []string{"--domain", d}
			}
			for _, action := range []string{"register", "check"} {
				before := e.srv.Stats().FleetAPI
				r := e.run("", append([]string{"partner", action}, args...)...)
				if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
					t.Errorf("%s: exit %d %s", action, r.code, r.stderr)
				}
				if e.srv.Stats().FleetAPI != before {
					t.Errorf("%s: Tesla was asked although the key cannot be used", action)
				}
			}
		})
	}
	if _, ok := e.srv.PartnerPublicKey("na", d); ok {
		t.Fatal("registered anyway")
	}

	// Two partner accounts: name one.
	e.loginPartner("biz-eu", "eu")
	key, _ := ecdh.P256().GenerateKey(rand.Reader)
	h.serve(t, key.PublicKey())
	if r := e.run("", "partner", "check", "--domain", d); r.code != 2 || !strings.Contains(r.stderr, "there are 2 partner accounts (biz, biz-eu); name one with --account") {
		t.Fatalf("two partner accounts: exit %d %s", r.code, r.stderr)
	}
	// Tesla is unreachable.
	e.srv.Close()
	r := e.run("", "partner", "register", "--domain", d, "--account", "biz")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot reach Tesla") || !strings.Contains(r.stderr, "HTTPS_PROXY") {
		t.Fatalf("offline: exit %d %s", r.code, r.stderr)
	}
}

// TestPartnerTokenRefreshedThroughManager: an expired partner token is
// fetched again (client credentials) before the call, once.
func TestPartnerTokenRefreshedThroughManager(t *testing.T) {
	t.Parallel()
	e, h := partnerEnv(t)
	e.loginPartner("biz", "na")
	key, _ := ecdh.P256().GenerateKey(rand.Reader)
	h.serve(t, key.PublicKey())
	e.mustRun("", "partner", "register", "--domain", h.domain(), "--region", "na")
	if st := e.srv.Stats(); st.ClientCredentials != 1 {
		t.Fatalf("a valid partner token was fetched again: %+v", st)
	}
	a := e.account("biz")
	a.Expiry = a.AccessObtainedAt
	e.replace(a)
	e.mustRun("", "partner", "check", "--domain", h.domain(), "--region", "na")
	if st := e.srv.Stats(); st.ClientCredentials != 2 {
		t.Fatalf("the expired partner token was not fetched again: %+v", st)
	}
}

// replace writes a over the stored account with its id.
func (e *env) replace(a accounts.Account) {
	e.t.Helper()
	if _, err := e.manager().Put(context.Background(), a); err != nil {
		e.t.Fatal(err)
	}
}
