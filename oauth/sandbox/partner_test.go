package sandbox

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// keyHost serves body with status at the partner key path over TLS, and
// returns its domain (host:port) and a client that trusts it.
func keyHost(t *testing.T, status int, body []byte) (string, *http.Client) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != partnerKeyPath {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), srv.Client()
}

// publicPEM is the PEM of key's public half.
func publicPEM(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// postBearer POSTs body as JSON to rawURL with a bearer token.
func postBearer(t *testing.T, rawURL, tok, body string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	return do(t, noRedirect, req)
}

func TestPartnerRegistration(t *testing.T) {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	domain, client := keyHost(t, 200, publicPEM(t, key.PublicKey()))
	s := NewTest(t, Options{PartnerHTTPClient: client})
	tok := partnerToken(t, s, s.URL())
	want := hex.EncodeToString(key.PublicKey().Bytes())
	if len(want) != 130 || !strings.HasPrefix(want, "04") {
		t.Fatalf("test key %s", want)
	}

	r := postBearer(t, s.FleetAPIBase("eu")+"/api/1/partner_accounts", tok, `{"domain":"`+domain+`"}`)
	if r.status != 200 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	resp, _ := r.json(t)["response"].(map[string]any)
	if resp["domain"] != domain || resp["public_key"] != want || resp["client_id"] != PartnerClientID {
		t.Errorf("register answer %s", r.body)
	}
	for _, f := range []string{"account_id", "created_at", "updated_at", "public_key_hash", "enterprise_tier"} {
		if _, ok := resp[f]; !ok {
			t.Errorf("register answer lacks %s", f)
		}
	}

	lookup := func(region, d string) response {
		return get(t, s.FleetAPIBase(region)+"/api/1/partner_accounts/public_key?domain="+d, "Authorization", "Bearer "+tok)
	}
	wantBody(t, "public_key", lookup("eu", domain), 200, `{"response":{"public_key":"`+want+`"}}`)
	if r := lookup("na", domain); r.status != 404 {
		t.Errorf("other region: %d %s", r.status, r.body)
	}
	if r := lookup("eu", "unknown.example.com"); r.status != 404 {
		t.Errorf("unknown domain: %d %s", r.status, r.body)
	}
	if r := lookup("eu", ""); r.status != 400 {
		t.Errorf("no domain: %d %s", r.status, r.body)
	}
	if got, ok := s.PartnerPublicKey("EU", domain); !ok || hex.EncodeToString(got) != want {
		t.Errorf("PartnerPublicKey %x %v", got, ok)
	}
	user := s.Mint(MintRequest{Scopes: []string{"openid"}}).AccessToken
	wantBody(t, "user token", postBearer(t, s.FleetAPIBase("eu")+"/api/1/partner_accounts", user, `{"domain":"`+domain+`"}`),
		403, `{"error":"partner token required"}`)
	if r := get(t, s.FleetAPIBase("eu")+"/api/1/partner_accounts/public_key?domain="+domain, "Authorization", "Bearer "+user); r.status != 403 {
		t.Errorf("public_key with a user token: %d", r.status)
	}
	if st := s.Stats(); st.FleetAPI != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestPartnerRegistrationRefusals(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cases := []struct {
		name   string
		status int
		body   []byte
		want   string
	}{
		{"P-384 key", 200, publicPEM(t, &p384.PublicKey), "secp256r1"},
		{"Ed25519 key", 200, publicPEM(t, edPub), "secp256r1"},
		{"not PEM", 200, []byte("hello"), "PEM"},
		{"private key block", 200, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1}}), "PEM"},
		{"no key hosted", 404, nil, "404"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			domain, client := keyHost(t, c.status, c.body)
			s := NewTest(t, Options{PartnerHTTPClient: client})
			r := postBearer(t, s.FleetAPIBase("na")+"/api/1/partner_accounts", partnerToken(t, s, s.URL()), `{"domain":"`+domain+`"}`)
			if r.status != 400 || !strings.Contains(r.str(t, "error"), c.want) ||
				!strings.Contains(r.str(t, "error"), "https://"+domain+partnerKeyPath) {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if _, ok := s.PartnerPublicKey("na", domain); ok {
				t.Fatal("registered anyway")
			}
		})
	}

	// Without PartnerHTTPClient nothing is trusted.
	domain, _ := keyHost(t, 200, publicPEM(t, &p256.PublicKey))
	s := NewTest(t, Options{})
	tok := partnerToken(t, s, s.URL())
	if r := postBearer(t, s.FleetAPIBase("na")+"/api/1/partner_accounts", tok, `{"domain":"`+domain+`"}`); r.status != 400 {
		t.Errorf("default client: %d %s", r.status, r.body)
	}
	for _, body := range []string{`{"domain":""}`, `{"domain":"https://example.com"}`, `{"domain":"example.com/x"}`,
		`{"domain":"me@example.com"}`, `domain=example.com`, `{}`} {
		if r := postBearer(t, s.FleetAPIBase("na")+"/api/1/partner_accounts", tok, body); r.status != 400 || r.str(t, "error") == "" {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
	wantBody(t, "no token", postBearer(t, s.FleetAPIBase("na")+"/api/1/partner_accounts", "nope", `{"domain":"example.com"}`),
		401, `{"error":"invalid_token"}`)
}

func TestPartnerKeyReRegistrationUpdatesIt(t *testing.T) {
	first, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	second, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var mu sync.Mutex
	served := publicPEM(t, &first.PublicKey)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(served)
	}))
	defer srv.Close()
	s := NewTest(t, Options{PartnerHTTPClient: srv.Client()})
	tok := partnerToken(t, s, s.URL())
	domain := srv.Listener.Addr().String()
	register := func() map[string]any {
		r := postBearer(t, s.FleetAPIBase("cn")+"/api/1/partner_accounts", tok, `{"domain":"`+strings.ToUpper(domain)+`"}`)
		var body struct {
			Response map[string]any `json:"response"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &body) != nil {
			t.Fatalf("register: %d %s", r.status, r.body)
		}
		return body.Response
	}
	a := register()
	mu.Lock()
	served = publicPEM(t, &second.PublicKey)
	mu.Unlock()
	b := register()
	if a["public_key"] == b["public_key"] || a["account_id"] != b["account_id"] {
		t.Fatalf("first %v\nsecond %v", a, b)
	}
	pub, _ := second.PublicKey.ECDH()
	if got, _ := s.PartnerPublicKey("cn", domain); !bytes.Equal(got, pub.Bytes()) {
		t.Fatal("the key was not updated")
	}
}
