package fleetapi

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/keyfob/keyfob/oauth/sandbox"
)

func decodeBody(resp *http.Response, out any) error { return json.NewDecoder(resp.Body).Decode(out) }

// keyDomain serves a public key over TLS on loopback at KeyPath; set
// changes what it serves.
type keyDomain struct {
	srv    *httptest.Server
	mu     sync.Mutex
	status int
	body   []byte
}

func newKeyDomain(t *testing.T, body []byte) *keyDomain {
	d := &keyDomain{status: 200, body: body}
	d.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if r.URL.Path != KeyPath {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(d.status)
		_, _ = w.Write(d.body)
	}))
	d.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // a client refusing the certificate is expected
	d.srv.StartTLS()
	t.Cleanup(d.srv.Close)
	return d
}

func (d *keyDomain) set(status int, body []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status, d.body = status, body
}

func (d *keyDomain) name() string { return d.srv.Listener.Addr().String() }

func pemOf(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestRegisterAndCheckPartnerKey(t *testing.T) {
	key, _ := ecdh.P256().GenerateKey(rand.Reader)
	d := newKeyDomain(t, pemOf(t, key.PublicKey()))
	s := sandbox.NewTest(t, sandbox.Options{PartnerHTTPClient: d.srv.Client()})
	c := &Client{HTTP: d.srv.Client()}
	tok, base := partnerToken(t, s, "eu"), s.FleetAPIBase("eu")
	ctx := context.Background()

	r, err := c.CheckPartnerKey(ctx, base, tok, d.name())
	if err != nil || r.Outcome != KeyNotRegistered || r.DomainKey != hex.EncodeToString(key.PublicKey().Bytes()) || len(r.Calls) != 2 {
		t.Fatalf("before registering: %v %+v", err, r)
	}
	pa, x, err := c.RegisterPartner(ctx, base, tok, d.name())
	if err != nil || x.Status != 200 || pa.Domain != d.name() || pa.PublicKey != r.DomainKey || pa.AccountID == "" || pa.Raw["client_id"] != sandbox.PartnerClientID {
		t.Fatalf("register: %v %+v %+v", err, x, pa)
	}
	if r, err = c.CheckPartnerKey(ctx, base, tok, d.name()); err != nil || r.Outcome != KeyMatch || r.TeslaKey != r.DomainKey {
		t.Fatalf("after registering: %v %+v", err, r)
	}
	// Another key on the domain: Tesla still holds the old one.
	other, _ := ecdh.P256().GenerateKey(rand.Reader)
	d.set(200, pemOf(t, other.PublicKey()))
	if r, err = c.CheckPartnerKey(ctx, base, tok, d.name()); err != nil || r.Outcome != KeyMismatch || r.TeslaKey == r.DomainKey {
		t.Fatalf("new key: %v %+v", err, r)
	}
	// Registered in eu, not in na.
	if r, err = c.CheckPartnerKey(ctx, s.FleetAPIBase("na"), tok, d.name()); err != nil || r.Outcome != KeyNotRegistered {
		t.Fatalf("other region: %v %+v", err, r)
	}
	// A user token is refused by Tesla.
	user := s.Mint(sandbox.MintRequest{Scopes: []string{"openid"}}).AccessToken
	if _, _, err := c.RegisterPartner(ctx, base, user, d.name()); err == nil || !strings.Contains(err.Error(), "403 Forbidden (partner token required)") {
		t.Fatalf("user token: %v", err)
	}
}

func TestDomainKeyRefusals(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name    string
		status  int
		body    []byte
		want    string
		private bool
	}{
		{"P-384", 200, pemOf(t, &p384.PublicKey), "is an EC key on P-384", false},
		{"RSA", 200, pemOf(t, &rsaKey.PublicKey), "is an RSA key (2048 bits)", false},
		{"Ed25519", 200, pemOf(t, edPub), "is an Ed25519 key", false},
		{"not PEM", 200, []byte("hello"), "is not PEM", false},
		{"private key", 200, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1}}), "is a PRIVATE key", true},
		{"certificate", 200, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), "PEM CERTIFICATE block", false},
		{"missing", 404, nil, "is not there: the domain answered 404 Not Found", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newKeyDomain(t, tc.body)
			d.set(tc.status, tc.body)
			_, x, err := (&Client{HTTP: d.srv.Client()}).DomainKey(context.Background(), d.name())
			var ke *KeyError
			if !errors.As(err, &ke) || !errors.Is(err, ErrBadKey) || ke.Private != tc.private || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), KeyURL(d.name())) || x.Error == "" {
				t.Fatalf("err %v", err)
			}
		})
	}
}

func TestDomainKeyUnreachable(t *testing.T) {
	// A certificate nobody trusts.
	d := newKeyDomain(t, nil)
	_, _, err := (&Client{}).DomainKey(context.Background(), d.name())
	var ne *NetError
	if !errors.As(err, &ne) || !strings.Contains(ne.Cause, "not trusted") {
		t.Fatalf("untrusted: %v", err)
	}
	// A name that does not resolve (.invalid never does, RFC 6761).
	_, _, err = (&Client{}).DomainKey(context.Background(), "keyfob-test.invalid")
	if !errors.As(err, &ne) || !errors.Is(err, ErrUnreachable) {
		t.Fatalf("unknown domain: %v", err)
	}
	// Nothing listening.
	addr := d.name()
	d.srv.Close()
	if _, _, err = (&Client{}).DomainKey(context.Background(), addr); !errors.As(err, &ne) || ne.NoSuchHost {
		t.Fatalf("closed: %v", err)
	}
}

func TestCheckDomain(t *testing.T) {
	for in, want := range map[string]string{"Example.COM": "example.com", " app.example.com ": "app.example.com", "127.0.0.1:8443": "127.0.0.1:8443"} {
		if got, err := CheckDomain(in); err != nil || got != want {
			t.Errorf("CheckDomain(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "https://example.com", "example.com/x", "me@example.com", "exa mple.com", "example.com?x"} {
		if _, err := CheckDomain(in); err == nil {
			t.Errorf("CheckDomain(%q) accepted", in)
		}
	}
}
