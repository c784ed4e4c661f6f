package sandbox

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCodeFlowIssuesTeslaShapedTokens(t *testing.T) {
	s := NewTest(t, Options{})
	const audience = "https://fleet-api.example.test"
	r := login(t, s, FleetClientID, "openid offline_access vehicle_device_data email", url.Values{"audience": {audience}})
	body := r.json(t)
	if body["token_type"] != "Bearer" || body["expires_in"] != float64(28800) {
		t.Errorf("token_type %v, expires_in %v", body["token_type"], body["expires_in"])
	}
	if body["scope"] != "openid offline_access vehicle_device_data email" {
		t.Errorf("scope %q", body["scope"])
	}
	if _, ok := body["state"]; ok {
		t.Error("the token answer carries state")
	}
	if rt := r.str(t, "refresh_token"); !strings.HasPrefix(rt, "NA_") || len(rt) < 40 {
		t.Errorf("refresh token %q is not an opaque NA_ token", rt)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}

	at := claims(t, r.str(t, "access_token"))
	u := s.User()
	if at["iss"] != s.Issuer() || at["azp"] != FleetClientID || at["sub"] != u.Subject || at["ou_code"] != "NA" || at["locale"] != "en-US" {
		t.Errorf("access claims %v", at)
	}
	// The audience asked for is kept with the grant, but aud lists Tesla's
	// Fleet API bases, as Tesla's tokens do; ou_code picks the user's.
	if got := strs(at["aud"]); !slices.Equal(got, []string{TeslaFleetAPIBase("na"), TeslaFleetAPIBase("eu"), s.Issuer() + "/userinfo"}) {
		t.Errorf("aud %v", got)
	}
	if got := strs(at["scp"]); !slices.Equal(got, []string{"openid", "offline_access", "vehicle_device_data", "email"}) {
		t.Errorf("scp %v", got)
	}
	if !slices.Equal(strs(at["amr"]), []string{"pwd", "mfa"}) {
		t.Errorf("amr %v", at["amr"])
	}
	iat, _ := at["iat"].(float64)
	exp, _ := at["exp"].(float64)
	if exp-iat != 28800 || at["auth_time"] != at["iat"] {
		t.Errorf("iat %v exp %v auth_time %v", at["iat"], at["exp"], at["auth_time"])
	}
	if jti, _ := at["jti"].(string); jti == "" {
		t.Error("no jti")
	}

	id := claims(t, r.str(t, "id_token"))
	if id["aud"] != FleetClientID || id["sub"] != u.Subject || id["email"] != u.Email || id["email_verified"] != true || id["iss"] != s.Issuer() {
		t.Errorf("id claims %v", id)
	}

	info, ok := s.AccessToken(r.str(t, "access_token"))
	if !ok || info.ClientID != FleetClientID || info.Revoked || info.Expiry.Unix() != int64(exp) || len(info.Scopes) != 4 {
		t.Errorf("AccessToken %+v %v", info, ok)
	}
	if st := s.Stats(); st.Authorize != 1 || st.CodeExchanges != 1 || st.Failures != 0 {
		t.Errorf("stats %+v", st)
	}
	if !s.RefreshTokenLive(r.str(t, "refresh_token")) || s.LiveRefreshTokens() != 1 {
		t.Error("the new refresh token is not live")
	}
}

func TestCodeFlowWithoutAudienceOrOpenID(t *testing.T) {
	s := NewTest(t, Options{})
	r := login(t, s, FleetClientID, "vehicle_device_data", nil)
	body := r.json(t)
	if _, ok := body["id_token"]; ok {
		t.Error("id_token without openid")
	}
	if _, ok := body["refresh_token"]; ok {
		t.Error("refresh_token without offline_access")
	}
	at := claims(t, r.str(t, "access_token"))
	if got := strs(at["aud"]); !slices.Equal(got, []string{TeslaFleetAPIBase("na"), TeslaFleetAPIBase("eu"), s.URL() + "/oauth2/v3/userinfo"}) {
		t.Errorf("aud %v", got)
	}
}

func TestTokensAreUnique(t *testing.T) {
	s := NewTest(t, Options{Now: newClock().Now})
	a := s.Mint(MintRequest{Scopes: []string{"openid"}})
	b := s.Mint(MintRequest{Scopes: []string{"openid"}})
	if a.AccessToken == b.AccessToken || a.RefreshToken == b.RefreshToken {
		t.Fatal("two tokens minted at the same instant are equal")
	}
	if claims(t, a.AccessToken)["jti"] == claims(t, b.AccessToken)["jti"] {
		t.Fatal("jti repeats")
	}
}

func TestCodeExchangeFailures(t *testing.T) {
	verifier, challenge := pkce("abc")
	other, _ := pkce("xyz")
	cases := []struct {
		name   string
		change func(url.Values)
		status int
		err    string
	}{
		{"wrong verifier", func(f url.Values) { f.Set("code_verifier", other) }, 400, "invalid_grant"},
		{"missing verifier", func(f url.Values) { f.Del("code_verifier") }, 400, "invalid_grant"},
		{"short verifier", func(f url.Values) { f.Set("code_verifier", "abc") }, 400, "invalid_grant"},
		{"redirect mismatch", func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:9999/other") }, 400, "invalid_grant"},
		{"missing redirect", func(f url.Values) { f.Del("redirect_uri") }, 400, "invalid_grant"},
		{"unknown code", func(f url.Values) { f.Set("code", "nope") }, 400, "invalid_grant"},
		{"missing code", func(f url.Values) { f.Del("code") }, 400, "invalid_request"},
		{"missing client", func(f url.Values) { f.Del("client_id") }, 400, "invalid_request"},
		{"unknown grant type", func(f url.Values) { f.Set("grant_type", "urn:ietf:params:oauth:grant-type:device_code") }, 400, "unsupported_grant_type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewTest(t, Options{})
			code := authorize(t, s, FleetClientID, loopbackRedirect, challenge, "openid offline_access")
			form := url.Values{"grant_type": {"authorization_code"}, "client_id": {FleetClientID}, "code": {code},
				"redirect_uri": {loopbackRedirect}, "code_verifier": {verifier}}
			c.change(form)
			r := postForm(t, s.Issuer()+"/token", form)
			if r.status != c.status || r.str(t, "error") != c.err {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, c.status, c.err)
			}
			if st := s.Stats(); st.CodeExchanges != 0 {
				t.Errorf("a failed exchange counted: %+v", st)
			}
		})
	}
}

func TestCodeIsSingleUse(t *testing.T) {
	s := NewTest(t, Options{})
	verifier, challenge := pkce("abc")
	code := authorize(t, s, FleetClientID, loopbackRedirect, challenge, "openid")
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {FleetClientID}, "code": {code},
		"redirect_uri": {loopbackRedirect}, "code_verifier": {verifier}}
	if r := postForm(t, s.Issuer()+"/token", form); r.status != 200 {
		t.Fatalf("first exchange %d %s", r.status, r.body)
	}
	if r := postForm(t, s.Issuer()+"/token", form); r.status != 400 || r.str(t, "error") != "invalid_grant" {
		t.Fatalf("reused code: %d %s", r.status, r.body)
	}
}

func TestWrongVerifierConsumesTheCode(t *testing.T) {
	s := NewTest(t, Options{})
	verifier, challenge := pkce("abc")
	other, _ := pkce("xyz")
	code := authorize(t, s, FleetClientID, loopbackRedirect, challenge, "openid")
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {FleetClientID}, "code": {code},
		"redirect_uri": {loopbackRedirect}, "code_verifier": {other}}
	if r := postForm(t, s.Issuer()+"/token", form); r.status != 400 {
		t.Fatalf("wrong verifier: %d", r.status)
	}
	form.Set("code_verifier", verifier)
	if r := postForm(t, s.Issuer()+"/token", form); r.status != 400 || r.str(t, "error") != "invalid_grant" {
		t.Fatalf("second try: %d %s", r.status, r.body)
	}
}

func TestCodeOfAnotherClientStaysForItsOwner(t *testing.T) {
	s := NewTest(t, Options{})
	verifier, challenge := pkce("abc")
	code := authorize(t, s, FleetClientID, loopbackRedirect, challenge, "openid")
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {"intruder"}, "code": {code},
		"redirect_uri": {loopbackRedirect}, "code_verifier": {verifier}}
	if r := postForm(t, s.Issuer()+"/token", form); r.status != 400 || r.str(t, "error") != "invalid_grant" {
		t.Fatalf("other client: %d %s", r.status, r.body)
	}
	form.Set("client_id", FleetClientID)
	if r := postForm(t, s.Issuer()+"/token", form); r.status != 200 {
		t.Fatalf("owner: %d %s", r.status, r.body)
	}
}

func TestCodeExpiresAfterTenMinutes(t *testing.T) {
	clk := newClock()
	s := NewTest(t, Options{Now: clk.Now})
	verifier, challenge := pkce("abc")
	form := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "client_id": {FleetClientID}, "code": {code},
			"redirect_uri": {loopbackRedirect}, "code_verifier": {verifier}}
	}
	fresh := authorize(t, s, FleetClientID, loopbackRedirect, challenge, "openid")
	stale := authorize(t, s, FleetClientID, loopbackRedirect, challenge, "openid")
	clk.Advance(9 * time.Minute)
	if r := postForm(t, s.Issuer()+"/token", form(fresh)); r.status != 200 {
		t.Fatalf("9 minutes old: %d %s", r.status, r.body)
	}
	clk.Advance(time.Minute)
	if r := postForm(t, s.Issuer()+"/token", form(stale)); r.status != 400 || r.str(t, "error") != "invalid_grant" {
		t.Fatalf("10 minutes old: %d %s", r.status, r.body)
	}
}

func TestConfidentialClientCodeExchange(t *testing.T) {
	s := NewTest(t, Options{Secrets: map[string]string{"my-app": "my secret/+"}})
	verifier, challenge := pkce("abc")
	exchange := func(secret string, basic bool) response {
		code := authorize(t, s, "my-app", loopbackRedirect, challenge, "openid")
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {loopbackRedirect}, "code_verifier": {verifier}}
		if !basic {
			form.Set("client_id", "my-app")
			if secret != "" {
				form.Set("client_secret", secret)
			}
		}
		req, err := http.NewRequest(http.MethodPost, s.Issuer()+"/token", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		if basic {
			// RFC 6749 §2.3.1 form-encodes both parts, as x/oauth2 does.
			req.SetBasicAuth(url.QueryEscape("my-app"), url.QueryEscape(secret))
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(t, noRedirect, req)
	}
	if r := exchange("", false); r.status != 401 || r.str(t, "error") != "invalid_client" {
		t.Fatalf("no secret: %d %s", r.status, r.body)
	}
	if r := exchange("wrong", false); r.status != 401 || r.str(t, "error") != "invalid_client" {
		t.Fatalf("wrong secret: %d %s", r.status, r.body)
	}
	if r := exchange("my secret/+", false); r.status != 200 {
		t.Fatalf("secret in body: %d %s", r.status, r.body)
	}
	if r := exchange("my secret/+", true); r.status != 200 {
		t.Fatalf("secret in Basic: %d %s", r.status, r.body)
	}
	if r := exchange("wrong", true); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("wrong Basic secret: %d %v", r.status, r.header)
	}
	if strings.Contains(string(exchange("wrong", false).body), "wrong") {
		t.Error("the error echoes the secret")
	}
}

func TestPublicClientSecretIsIgnored(t *testing.T) {
	s := NewTest(t, Options{})
	login(t, s, FleetClientID, "openid", url.Values{"client_secret": {"anything"}})
}

func TestTokenRequestMustBeAForm(t *testing.T) {
	s := NewTest(t, Options{})
	r := postJSON(t, s.Issuer()+"/token", map[string]string{"grant_type": "client_credentials"})
	if r.status != 400 || r.str(t, "error") != "invalid_request" {
		t.Fatalf("JSON body: %d %s", r.status, r.body)
	}
	if r := get(t, s.Issuer()+"/token"); r.status != 405 || r.header.Get("Allow") != "POST" {
		t.Fatalf("GET: %d %v", r.status, r.header)
	}
}

func TestAuthorizeRejections(t *testing.T) {
	_, challenge := pkce("abc")
	cases := []struct {
		name   string
		change func(url.Values)
		err    string // "" = a 400 page, no redirect
		state  bool
	}{
		{"missing PKCE", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "invalid_request", true},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request", true},
		{"no PKCE method", func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request", true},
		{"short challenge", func(q url.Values) { q.Set("code_challenge", "abc") }, "invalid_request", true},
		{"token response type", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type", true},
		{"missing state", func(q url.Values) { q.Del("state") }, "invalid_request", false},
		{"missing redirect", func(q url.Values) { q.Del("redirect_uri") }, "", false},
		{"relative redirect", func(q url.Values) { q.Set("redirect_uri", "/callback") }, "", false},
		{"redirect with fragment", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1/cb#x") }, "", false},
		{"redirect without host", func(q url.Values) { q.Set("redirect_uri", "http:///cb") }, "", false},
		{"missing client", func(q url.Values) { q.Del("client_id") }, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewTest(t, Options{})
			q := authorizeParams(FleetClientID, loopbackRedirect, challenge, "openid")
			c.change(q)
			r := get(t, s.Issuer()+"/authorize?"+q.Encode())
			if c.err == "" {
				if r.status != 400 || r.header.Get("Location") != "" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
					t.Fatalf("want a 400 page, got %d %v", r.status, r.header)
				}
				return
			}
			u := location(t, r)
			if !strings.HasPrefix(u.String(), loopbackRedirect+"?") {
				t.Fatalf("redirected to %s", u)
			}
			got := u.Query()
			if got.Get("error") != c.err || got.Get("error_description") == "" || got.Get("code") != "" {
				t.Fatalf("redirect query %v", got)
			}
			if (got.Get("state") == "st4te") != c.state {
				t.Fatalf("state %q", got.Get("state"))
			}
			if s.Stats().Authorize != 0 {
				t.Error("a rejected authorize counted")
			}
		})
	}
}

func TestAuthorizeToTeslaCallback(t *testing.T) {
	s := NewTest(t, Options{})
	_, challenge := pkce("abc")
	q := authorizeParams("ownerapi", "tesla://auth/callback", challenge, "openid email offline_access")
	q.Set("login_hint", "driver@example.com")
	q.Set("show_keypair_step", "true")
	q.Set("locale", "en-US")
	q.Set("prompt_missing_scopes", "true")
	r := get(t, s.Issuer()+"/authorize?"+q.Encode())
	loc := r.header.Get("Location")
	if r.status != 302 || !strings.HasPrefix(loc, "tesla://auth/callback?") {
		t.Fatalf("%d Location %q", r.status, loc)
	}
	u, _ := url.Parse(loc)
	if got := u.Query(); got.Get("code") == "" || got.Get("state") != "st4te" || got.Get("issuer") != s.Issuer() {
		t.Fatalf("query %v", got)
	}
}

func TestAuthorizeKeepsRedirectQuery(t *testing.T) {
	s := NewTest(t, Options{})
	_, challenge := pkce("abc")
	u := location(t, get(t, s.Issuer()+"/authorize?"+authorizeParams(FleetClientID, loopbackRedirect+"?tab=2", challenge, "").Encode()))
	if u.Query().Get("tab") != "2" || u.Query().Get("code") == "" {
		t.Fatalf("redirect %s", u)
	}
}

func TestDropScopesAreNotGranted(t *testing.T) {
	s := NewTest(t, Options{DropScopes: []string{"vehicle_location"}})
	r := login(t, s, FleetClientID, "openid offline_access vehicle_location vehicle_cmds", nil)
	if r.str(t, "scope") != "openid offline_access vehicle_cmds" {
		t.Errorf("scope %q", r.str(t, "scope"))
	}
	if got := strs(claims(t, r.str(t, "access_token"))["scp"]); slices.Contains(got, "vehicle_location") {
		t.Errorf("scp %v", got)
	}
	// Refreshing keeps the granted scopes, not the requested ones.
	rr := refresh(t, s, FleetClientID, r.str(t, "refresh_token"))
	if got := strs(claims(t, rr.str(t, "access_token"))["scp"]); !slices.Equal(got, []string{"openid", "offline_access", "vehicle_cmds"}) {
		t.Errorf("refreshed scp %v", got)
	}
	if ts := s.Mint(MintRequest{Scopes: []string{"vehicle_location", "openid"}}); !slices.Equal(ts.Scopes, []string{"openid"}) {
		t.Errorf("Mint scopes %v", ts.Scopes)
	}
}

func TestLoginForm(t *testing.T) {
	s := NewTest(t, Options{LoginForm: true})
	verifier, challenge := pkce("abc")
	q := authorizeParams(FleetClientID, loopbackRedirect, challenge, "openid offline_access")
	q.Set("nonce", "n-0S6_WzA2Mj")
	q.Set("login_hint", "driver@example.com")
	r := get(t, s.Issuer()+"/authorize?"+q.Encode())
	page := string(r.body)
	if r.status != 200 || r.header.Get("Location") != "" || !strings.Contains(page, `name="password"`) ||
		!strings.Contains(page, `value="driver@example.com"`) || !strings.Contains(page, `name="code_challenge"`) {
		t.Fatalf("form: %d %s", r.status, page)
	}
	if s.Stats().Authorize != 0 {
		t.Error("showing the form counted as an authorization")
	}

	submit := func(email, password string, more ...string) response {
		f := url.Values{}
		for k, v := range q {
			f[k] = v
		}
		f.Set("email", email)
		f.Set("password", password)
		for i := 0; i+1 < len(more); i += 2 {
			f.Set(more[i], more[i+1])
		}
		return postForm(t, s.Issuer()+"/authorize", f)
	}
	bad := submit("driver@example.com", "wrong-password")
	if bad.status != 401 || bad.header.Get("Location") != "" || !strings.Contains(string(bad.body), "wrong") ||
		!strings.Contains(string(bad.body), `name="password"`) {
		t.Fatalf("wrong password: %d %s", bad.status, bad.body)
	}
	if strings.Contains(string(bad.body), "wrong-password") {
		t.Error("the form echoes the password")
	}
	cancel := location(t, submit("", "", "cancel", "1"))
	if cancel.Query().Get("error") != "login_cancelled" || cancel.Query().Get("state") != "st4te" {
		t.Fatalf("cancel: %s", cancel)
	}
	ok := location(t, submit("Driver@Example.com", s.User().Password))
	code := ok.Query().Get("code")
	if code == "" || ok.Query().Get("state") != "st4te" {
		t.Fatalf("sign in: %s", ok)
	}
	tr := postForm(t, s.Issuer()+"/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {FleetClientID},
		"code": {code}, "redirect_uri": {loopbackRedirect}, "code_verifier": {verifier}})
	if id := claims(t, tr.str(t, "id_token")); id["nonce"] != "n-0S6_WzA2Mj" {
		t.Errorf("id_token nonce %v", id["nonce"])
	}
	if st := s.Stats(); st.Authorize != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestAuthorizeRefusesPOSTWithoutLoginForm(t *testing.T) {
	s := NewTest(t, Options{})
	_, challenge := pkce("abc")
	r := postForm(t, s.Issuer()+"/authorize", authorizeParams(FleetClientID, loopbackRedirect, challenge, ""))
	if r.status != 405 {
		t.Fatalf("%d", r.status)
	}
}

func TestDiscovery(t *testing.T) {
	s := NewTest(t, Options{})
	for _, p := range []string{"/.well-known/openid-configuration", "/oauth2/v3/.well-known/openid-configuration",
		"/oauth2/v3/thirdparty/.well-known/openid-configuration"} {
		r := get(t, s.URL()+p)
		if r.status != 200 {
			t.Fatalf("%s: %d", p, r.status)
		}
		d := r.json(t)
		iss := s.Issuer()
		want := map[string]string{
			"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"userinfo_endpoint": iss + "/userinfo", "revocation_endpoint": iss + "/revoke",
			"jwks_uri": iss + "/discovery/keys", "end_session_endpoint": iss + "/logout",
		}
		for k, v := range want {
			if d[k] != v {
				t.Errorf("%s: %s = %v, want %s", p, k, d[k], v)
			}
		}
		if !slices.Equal(strs(d["code_challenge_methods_supported"]), []string{"S256"}) ||
			!slices.Equal(strs(d["response_types_supported"]), []string{"code"}) {
			t.Errorf("%s: %v %v", p, d["code_challenge_methods_supported"], d["response_types_supported"])
		}
		scopes := strs(d["scopes_supported"])
		for _, sc := range []string{"openid", "offline_access", "vehicle_device_data", "vehicle_location", "energy_cmds", "email"} {
			if !slices.Contains(scopes, sc) {
				t.Errorf("%s: scopes_supported lacks %s", p, sc)
			}
		}
		for _, gt := range []string{"authorization_code", "refresh_token", "client_credentials"} {
			if !slices.Contains(strs(d["grant_types_supported"]), gt) {
				t.Errorf("%s: grant_types_supported lacks %s", p, gt)
			}
		}
	}
	// Every endpoint the document names is served.
	for _, p := range []string{"/discovery/keys", "/logout"} {
		if r := get(t, s.Issuer()+p); r.status != 200 {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	if s.Issuer() != s.URL()+"/oauth2/v3" || strings.HasSuffix(s.URL(), "/") || !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q Issuer %q", s.URL(), s.Issuer())
	}
}

func TestUnknownPathIsJSON404(t *testing.T) {
	s := NewTest(t, Options{})
	for _, p := range []string{"/", "/oauth2/v3/nope", "/api/1/products"} {
		r := get(t, s.URL()+p)
		if r.status != 404 || r.str(t, "error") != "not_found" || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
	}
}
