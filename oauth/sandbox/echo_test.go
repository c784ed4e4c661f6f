package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// trickySecret has characters every encoding changes.
const trickySecret = `s3cr<et> & "quoted"/+=é`

// wantEcho fails unless r is FaultEcho's answer to a request of body raw
// carrying secrets.
func wantEcho(t *testing.T, r response, raw string, secrets ...string) {
	t.Helper()
	if r.status != http.StatusBadRequest || r.str(t, "error") != "invalid_request" || r.str(t, "message") != raw {
		t.Fatalf("echo answer %d %s", r.status, r.body)
	}
	d := r.str(t, "error_description")
	if !strings.Contains(d, raw) {
		t.Errorf("the description lacks the raw body %q", raw)
	}
	for _, sec := range secrets {
		quoted, _ := json.Marshal(sec)
		for name, form := range map[string]string{
			"raw":       sec,
			"urlencode": url.QueryEscape(sec),
			"json":      string(quoted[1 : len(quoted)-1]),
			"base64":    base64.StdEncoding.EncodeToString([]byte(sec)),
			"base64url": base64.RawURLEncoding.EncodeToString([]byte(sec)),
		} {
			if !strings.Contains(d, form) {
				t.Errorf("the description lacks %s %s form %q", sec, name, form)
			}
		}
	}
}

func TestFaultEchoOnEveryGrant(t *testing.T) {
	s := NewTest(t, Options{Secrets: map[string]string{"conf-app": trickySecret}})
	u := s.User()
	verifier, challenge := pkce("echo")
	code := authorize(t, s, "conf-app", loopbackRedirect, challenge, "openid offline_access")
	rt := s.Mint(MintRequest{ClientID: "conf-app", Scopes: []string{"offline_access"}}).RefreshToken
	legacyRT := s.Mint(MintRequest{Legacy: true}).RefreshToken
	forms := map[string]url.Values{
		"authorization_code": {"grant_type": {"authorization_code"}, "client_id": {"conf-app"}, "client_secret": {trickySecret},
			"code": {code}, "redirect_uri": {loopbackRedirect}, "code_verifier": {verifier}},
		"refresh_token": {"grant_type": {"refresh_token"}, "client_id": {"conf-app"}, "client_secret": {trickySecret}, "refresh_token": {rt}},
		"password":      {"grant_type": {"password"}, "client_id": {"custom-app"}, "username": {u.Email}, "password": {u.Password}},
	}
	for grant, form := range forms {
		t.Run(grant, func(t *testing.T) {
			s.FailNext(FaultEcho, 1)
			var secrets []string
			for k, v := range form {
				if k != "grant_type" {
					secrets = append(secrets, v[0])
				}
			}
			wantEcho(t, postForm(t, s.Issuer()+"/token", form), form.Encode(), secrets...)
			// Nothing was consumed: the same request now succeeds.
			if r := postForm(t, s.Issuer()+"/token", form); r.status != 200 {
				t.Fatalf("after the echo: %d %s", r.status, r.body)
			}
		})
	}

	t.Run("client_credentials with Basic", func(t *testing.T) {
		s.FailNext(FaultEcho, 1)
		body := "grant_type=client_credentials&scope=openid"
		req, _ := http.NewRequest(http.MethodPost, s.Issuer()+"/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(PartnerClientID), url.QueryEscape(PartnerSecret+"&+"))
		r := do(t, noRedirect, req)
		wantEcho(t, r, body, "openid", PartnerClientID, PartnerSecret+"&+")
		if !strings.Contains(r.str(t, "error_description"), req.Header.Get("Authorization")) {
			t.Error("the description lacks the Authorization header")
		}
	})

	for name, body := range map[string]map[string]string{
		"legacy password": {"grant_type": "password", "client_id": LegacyClientID, "client_secret": LegacyClientSecret,
			"email": u.Email, "password": u.Password},
		"legacy refresh": {"grant_type": "refresh_token", "client_id": LegacyClientID, "client_secret": LegacyClientSecret,
			"refresh_token": legacyRT},
	} {
		t.Run(name, func(t *testing.T) {
			s.FailNext(FaultEcho, 1)
			raw, _ := json.Marshal(body)
			var secrets []string
			for k, v := range body {
				if k != "grant_type" {
					secrets = append(secrets, v)
				}
			}
			wantEcho(t, postJSON(t, s.URL()+"/oauth/token", string(raw)), string(raw), secrets...)
			if r := postJSON(t, s.URL()+"/oauth/token", body); r.status != 200 {
				t.Fatalf("after the echo: %d %s", r.status, r.body)
			}
		})
	}
	if st := s.Stats(); st.Failures != 6 || st.CodeExchanges != 1 || st.Refreshes != 1 || st.PasswordGrants != 2 || st.LegacyRefreshes != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestFaultEchoJSONEscapesSecrets(t *testing.T) {
	s := NewTest(t, Options{})
	s.FailNext(FaultEcho, 1)
	raw := `{"grant_type":"password","email":"a@b.c","password":"p<a>ss\"w&rd","n":7}`
	r := postJSON(t, s.URL()+"/oauth/token", raw)
	d := r.str(t, "error_description")
	for _, want := range []string{`p\u003ca\u003ess\"w\u0026rd`, "n=7 7 7 Nw== Nw"} {
		if !strings.Contains(d, want) {
			t.Errorf("the description lacks %q: %s", want, d)
		}
	}
}

// FailNextRevoke's faults answer at both revocation endpoints and revoke
// nothing; FaultEcho echoes the token presented in every form.
func TestFailNextRevoke(t *testing.T) {
	s := NewTest(t, Options{LegacyRevokeWorks: true})
	ts := s.Mint(MintRequest{Scopes: []string{"offline_access"}})
	legacy := s.Mint(MintRequest{Legacy: true})
	s.FailNextRevoke(FaultEcho, 2)
	form := url.Values{"token": {ts.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {FleetClientID}}
	wantEcho(t, postForm(t, s.Issuer()+"/revoke", form), form.Encode(), ts.RefreshToken)
	raw := `{"token":"` + legacy.AccessToken + `"}`
	wantEcho(t, postJSON(t, s.URL()+"/oauth/revoke", raw), raw, legacy.AccessToken)
	if !s.RefreshTokenLive(ts.RefreshToken) || !s.RefreshTokenLive(legacy.RefreshToken) {
		t.Fatal("a failed revocation revoked")
	}
	s.FailNextRevoke(FaultServerError, 1)
	if r := postForm(t, s.Issuer()+"/revoke", form); r.status != http.StatusServiceUnavailable {
		t.Fatalf("5xx: %d %s", r.status, r.body)
	}
	if r := postForm(t, s.Issuer()+"/revoke", form); r.status != http.StatusOK || s.RefreshTokenLive(ts.RefreshToken) {
		t.Fatalf("after the faults: %d %s", r.status, r.body)
	}
	if st := s.Stats(); st.Failures != 3 || st.Revocations != 1 || st.LegacyRevocations != 0 {
		t.Errorf("stats %+v", st)
	}
}
