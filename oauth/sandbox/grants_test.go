package sandbox

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestClientCredentials(t *testing.T) {
	s := NewTest(t, Options{})
	const audience = "https://fleet-api.prd.eu.example.test"
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {PartnerClientID}, "client_secret": {PartnerSecret},
		"audience": {audience}, "scope": {"openid vehicle_device_data vehicle_cmds"}}
	r := postForm(t, s.Issuer()+"/token", good)
	if r.status != 200 {
		t.Fatalf("good secret: %d %s", r.status, r.body)
	}
	body := r.json(t)
	for _, f := range []string{"refresh_token", "scope", "id_token"} {
		if _, ok := body[f]; ok {
			t.Errorf("partner token answer carries %s", f)
		}
	}
	c := claims(t, r.str(t, "access_token"))
	if !slices.Equal(strs(c["aud"]), []string{audience, s.Issuer() + "/userinfo"}) ||
		!slices.Equal(strs(c["scp"]), []string{"openid", "vehicle_device_data", "vehicle_cmds"}) ||
		c["azp"] != PartnerClientID || c["sub"] != PartnerClientID {
		t.Errorf("claims %v", c)
	}
	if st := s.Stats(); st.ClientCredentials != 1 {
		t.Errorf("stats %+v", st)
	}

	bad := url.Values{}
	for k, v := range good {
		bad[k] = v
	}
	bad.Set("client_secret", "nope")
	if r := postForm(t, s.Issuer()+"/token", bad); r.status != 401 || r.str(t, "error") != "invalid_client" {
		t.Fatalf("bad secret: %d %s", r.status, r.body)
	}
	bad.Del("client_secret")
	if r := postForm(t, s.Issuer()+"/token", bad); r.status != 401 || r.str(t, "error") != "invalid_client" {
		t.Fatalf("no secret: %d %s", r.status, r.body)
	}
	bad.Set("client_id", FleetClientID)
	if r := postForm(t, s.Issuer()+"/token", bad); r.status != 401 || r.str(t, "error") != "invalid_client" {
		t.Fatalf("public client: %d %s", r.status, r.body)
	}
	if st := s.Stats(); st.ClientCredentials != 1 {
		t.Errorf("failed grants counted: %+v", st)
	}
}

func TestClientCredentialsWithBasicAuthAndExtraSecrets(t *testing.T) {
	s := NewTest(t, Options{Secrets: map[string]string{"biz": "b:z&secret"}})
	req, _ := http.NewRequest(http.MethodPost, s.Issuer()+"/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("biz", url.QueryEscape("b:z&secret"))
	if r := do(t, noRedirect, req); r.status != 200 {
		t.Fatalf("Basic: %d %s", r.status, r.body)
	}
	// A body client_id that contradicts the header is refused.
	req, _ = http.NewRequest(http.MethodPost, s.Issuer()+"/token", strings.NewReader("grant_type=client_credentials&client_id=other"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("biz", url.QueryEscape("b:z&secret"))
	if r := do(t, noRedirect, req); r.status != 400 || r.str(t, "error") != "invalid_request" {
		t.Fatalf("conflicting client ids: %d %s", r.status, r.body)
	}
}

func TestPasswordGrantAtTokenEndpoint(t *testing.T) {
	s := NewTest(t, Options{})
	u := s.User()
	form := url.Values{"grant_type": {"password"}, "client_id": {"custom-app"}, "username": {u.Email},
		"password": {u.Password}, "scope": {"openid offline_access"}}
	r := postForm(t, s.Issuer()+"/token", form)
	if r.status != 200 || r.str(t, "refresh_token") == "" || r.str(t, "id_token") == "" {
		t.Fatalf("password grant: %d %s", r.status, r.body)
	}
	form.Set("password", "wrong")
	if r := postForm(t, s.Issuer()+"/token", form); r.status != 400 || r.str(t, "error") != "invalid_grant" {
		t.Fatalf("wrong password: %d %s", r.status, r.body)
	}
	if st := s.Stats(); st.PasswordGrants != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestLegacyPasswordRefreshRevoke(t *testing.T) {
	clk := newClock()
	s := NewTest(t, Options{Now: clk.Now, LegacyRevokeWorks: true})
	u := s.User()
	r := postJSON(t, s.URL()+"/oauth/token", map[string]string{"grant_type": "password", "client_id": LegacyClientID,
		"client_secret": LegacyClientSecret, "email": u.Email, "password": u.Password})
	if r.status != 200 {
		t.Fatalf("password grant: %d %s", r.status, r.body)
	}
	body := r.json(t)
	access, rt := r.str(t, "access_token"), r.str(t, "refresh_token")
	if !strings.HasPrefix(access, "qts-") || !strings.HasPrefix(rt, "qts-") || access == rt {
		t.Fatalf("tokens %q %q", access, rt)
	}
	if body["token_type"] != "bearer" || body["expires_in"] != float64(3888000) || body["created_at"] != float64(clk.Now().Unix()) {
		t.Fatalf("answer %v", body)
	}
	if me := get(t, s.URL()+"/api/1/users/me", "Authorization", "Bearer "+access); me.status != 200 {
		t.Fatalf("users/me with a legacy token: %d", me.status)
	}

	refreshBody := map[string]string{"grant_type": "refresh_token", "client_id": LegacyClientID,
		"client_secret": LegacyClientSecret, "refresh_token": rt}
	r2 := postJSON(t, s.URL()+"/oauth/token", refreshBody)
	if r2.status != 200 || r2.str(t, "refresh_token") == rt || !strings.HasPrefix(r2.str(t, "access_token"), "qts-") {
		t.Fatalf("legacy refresh: %d %s", r2.status, r2.body)
	}
	if again := postJSON(t, s.URL()+"/oauth/token", refreshBody); again.status != 401 || again.str(t, "error") != "login_required" {
		t.Fatalf("legacy reuse: %d %s", again.status, again.body)
	}
	// A legacy token does not refresh at the v3 endpoint.
	if r := refresh(t, s, LegacyClientID, r2.str(t, "refresh_token")); r.status != 401 {
		t.Fatalf("legacy token at v3: %d", r.status)
	}

	access2, rt2 := r2.str(t, "access_token"), r2.str(t, "refresh_token")
	rev := postJSON(t, s.URL()+"/oauth/revoke", map[string]string{"token": access2})
	if rev.status != 200 || len(rev.body) != 0 {
		t.Fatalf("legacy revoke: %d %q", rev.status, rev.body)
	}
	if info, _ := s.AccessToken(access2); !info.Revoked {
		t.Error("access token not revoked")
	}
	if s.RefreshTokenLive(rt2) {
		t.Error("refresh token survived the legacy revoke")
	}
	if me := get(t, s.URL()+"/api/1/users/me", "Authorization", "Bearer "+access2); me.status != 401 {
		t.Errorf("users/me after revoke: %d", me.status)
	}
	if st := s.Stats(); st.PasswordGrants != 1 || st.LegacyRefreshes != 1 || st.LegacyRevocations != 1 || st.Refreshes != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestLegacyRevokeRevokesNothingByDefault(t *testing.T) {
	s := NewTest(t, Options{})
	ts := s.Mint(MintRequest{Legacy: true})
	for _, tok := range []string{ts.AccessToken, ts.RefreshToken, "qts-unknown"} {
		rev := postJSON(t, s.URL()+"/oauth/revoke", map[string]string{"token": tok})
		if rev.status != 200 || len(rev.body) != 0 {
			t.Fatalf("legacy revoke: %d %q", rev.status, rev.body)
		}
	}
	if info, _ := s.AccessToken(ts.AccessToken); info.Revoked {
		t.Error("the access token was revoked")
	}
	if !s.RefreshTokenLive(ts.RefreshToken) {
		t.Error("the refresh token was revoked")
	}
	if me := get(t, s.URL()+"/api/1/users/me", "Authorization", "Bearer "+ts.AccessToken); me.status != 200 {
		t.Errorf("users/me after the revoke: %d", me.status)
	}
	if st := s.Stats(); st.LegacyRevocations != 3 {
		t.Errorf("LegacyRevocations = %d, want the 3 answers", st.LegacyRevocations)
	}
}

func TestLegacyRejections(t *testing.T) {
	s := NewTest(t, Options{})
	u := s.User()
	v3 := s.Mint(MintRequest{ClientID: LegacyClientID, Scopes: []string{"offline_access"}})
	cases := []struct {
		name   string
		body   any
		status int
		err    string
	}{
		{"wrong password", map[string]string{"grant_type": "password", "client_id": LegacyClientID,
			"client_secret": LegacyClientSecret, "email": u.Email, "password": "nope"}, 401, "invalid_grant"},
		{"wrong email", map[string]string{"grant_type": "password", "client_id": LegacyClientID,
			"client_secret": LegacyClientSecret, "email": "x@example.com", "password": u.Password}, 401, "invalid_grant"},
		{"wrong client secret", map[string]string{"grant_type": "password", "client_id": LegacyClientID,
			"client_secret": "nope", "email": u.Email, "password": u.Password}, 401, "invalid_grant"},
		{"other client", map[string]string{"grant_type": "password", "client_id": FleetClientID,
			"client_secret": LegacyClientSecret, "email": u.Email, "password": u.Password}, 401, "invalid_grant"},
		{"v3 token at legacy", map[string]string{"grant_type": "refresh_token", "client_id": LegacyClientID,
			"client_secret": LegacyClientSecret, "refresh_token": v3.RefreshToken}, 401, "login_required"},
		{"unknown grant", map[string]string{"grant_type": "client_credentials"}, 400, "unsupported_grant_type"},
		{"form body", "grant_type=password&email=x", 400, "invalid_request"},
		{"not an object", `["password"]`, 400, "invalid_request"},
	}
	for _, c := range cases {
		r := postJSON(t, s.URL()+"/oauth/token", c.body)
		if r.status != c.status || r.str(t, "error") != c.err {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.body, c.status, c.err)
		}
		if strings.Contains(string(r.body), u.Password) {
			t.Errorf("%s: the error echoes the password", c.name)
		}
	}
	if r := postJSON(t, s.URL()+"/oauth/revoke", "token=abc"); r.status != 400 {
		t.Errorf("non-JSON revoke: %d", r.status)
	}
	if r := postJSON(t, s.URL()+"/oauth/revoke", map[string]string{}); r.status != 400 {
		t.Errorf("revoke without token: %d", r.status)
	}
	if r := postJSON(t, s.URL()+"/oauth/revoke", map[string]string{"token": "qts-unknown"}); r.status != 200 {
		t.Errorf("revoke of an unknown token: %d", r.status)
	}
	if st := s.Stats(); st.PasswordGrants != 0 || st.LegacyRefreshes != 0 {
		t.Errorf("failed grants counted: %+v", st)
	}
}

func TestLegacyTokenHonoursOptions(t *testing.T) {
	s := NewTest(t, Options{LegacyTTL: time.Hour, AccessTTL: time.Minute,
		Secrets: map[string]string{LegacyClientID: "rotated-secret"}})
	u := s.User()
	body := map[string]string{"grant_type": "password", "client_id": LegacyClientID,
		"client_secret": LegacyClientSecret, "email": u.Email, "password": u.Password}
	if r := postJSON(t, s.URL()+"/oauth/token", body); r.status != 401 || r.str(t, "error") != "invalid_grant" {
		t.Fatalf("password grant with the replaced secret: %d %s", r.status, r.body)
	}
	body["client_secret"] = "rotated-secret"
	r := postJSON(t, s.URL()+"/oauth/token", body)
	if r.status != 200 || r.json(t)["expires_in"] != float64(3600) {
		t.Fatalf("password grant: %d %s", r.status, r.body)
	}
	refreshBody := map[string]string{"grant_type": "refresh_token", "client_id": LegacyClientID,
		"client_secret": LegacyClientSecret, "refresh_token": r.str(t, "refresh_token")}
	if r := postJSON(t, s.URL()+"/oauth/token", refreshBody); r.status != 401 || r.str(t, "error") != "invalid_client" {
		t.Fatalf("refresh with the replaced secret: %d %s", r.status, r.body)
	}
	refreshBody["client_secret"] = "rotated-secret"
	if r := postJSON(t, s.URL()+"/oauth/token", refreshBody); r.status != 200 || r.json(t)["expires_in"] != float64(3600) {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if ts := s.Mint(MintRequest{Legacy: true}); time.Until(ts.Expiry) < 59*time.Minute || time.Until(ts.Expiry) > time.Hour {
		t.Fatalf("minted legacy expiry %v, want LegacyTTL", ts.Expiry)
	}
	if st := s.Stats(); st.PasswordGrants != 1 || st.LegacyRefreshes != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRevokeRefreshTokenEndsTheChain(t *testing.T) {
	s := NewTest(t, Options{RefreshGrace: time.Hour})
	first := s.Mint(MintRequest{Scopes: []string{"openid", "offline_access"}})
	r := refresh(t, s, FleetClientID, first.RefreshToken)
	second, rt := r.str(t, "access_token"), r.str(t, "refresh_token")
	other := s.Mint(MintRequest{Scopes: []string{"offline_access"}})

	rev := postForm(t, s.Issuer()+"/revoke", url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}, "client_id": {FleetClientID}})
	if rev.status != 200 || len(rev.body) != 0 {
		t.Fatalf("revoke: %d %q", rev.status, rev.body)
	}
	for _, at := range []string{first.AccessToken, second} {
		if info, ok := s.AccessToken(at); !ok || !info.Revoked {
			t.Errorf("access token of the chain not revoked: %+v", info)
		}
		if me := get(t, s.Issuer()+"/userinfo", "Authorization", "Bearer "+at); me.status != 401 {
			t.Errorf("userinfo with a revoked token: %d", me.status)
		}
	}
	if s.RefreshTokenLive(rt) || s.RefreshTokenLive(first.RefreshToken) {
		t.Error("a refresh token of the chain survived (grace included)")
	}
	if r := refresh(t, s, FleetClientID, rt); r.status != 401 || r.str(t, "error") != "login_required" {
		t.Errorf("refresh after revoke: %d %s", r.status, r.body)
	}
	if info, _ := s.AccessToken(other.AccessToken); info.Revoked || !s.RefreshTokenLive(other.RefreshToken) {
		t.Error("revoking one grant touched another")
	}
}

func TestRevokeAccessTokenAlone(t *testing.T) {
	s := NewTest(t, Options{})
	ts := s.Mint(MintRequest{Scopes: []string{"offline_access"}})
	r := refresh(t, s, FleetClientID, ts.RefreshToken)
	sibling, rt := r.str(t, "access_token"), r.str(t, "refresh_token")
	if rev := postForm(t, s.Issuer()+"/revoke", url.Values{"token": {ts.AccessToken}, "token_type_hint": {"access_token"}}); rev.status != 200 {
		t.Fatalf("revoke: %d %s", rev.status, rev.body)
	}
	if info, _ := s.AccessToken(ts.AccessToken); !info.Revoked {
		t.Error("access token not revoked")
	}
	if info, _ := s.AccessToken(sibling); info.Revoked || !s.RefreshTokenLive(rt) {
		t.Error("revoking an access token ended its grant")
	}
}

func TestRevokeEdgeCases(t *testing.T) {
	s := NewTest(t, Options{})
	ts := s.Mint(MintRequest{Scopes: []string{"offline_access"}})
	if r := postForm(t, s.Issuer()+"/revoke", url.Values{"token": {"NA_unknown"}}); r.status != 200 || len(r.body) != 0 {
		t.Errorf("unknown token: %d %q", r.status, r.body)
	}
	if r := postForm(t, s.Issuer()+"/revoke", url.Values{"token": {"x"}, "token_type_hint": {"bogus"}}); r.status != 200 {
		t.Errorf("bogus hint: %d", r.status)
	}
	if r := postForm(t, s.Issuer()+"/revoke", url.Values{"token_type_hint": {"refresh_token"}}); r.status != 400 || r.str(t, "error") != "invalid_request" {
		t.Errorf("missing token: %d %s", r.status, r.body)
	}
	r := postForm(t, s.Issuer()+"/revoke", url.Values{"token": {ts.RefreshToken}, "client_id": {"someone-else"}})
	if r.status != 400 || r.str(t, "error") != "unauthorized_client" || !s.RefreshTokenLive(ts.RefreshToken) {
		t.Errorf("other client: %d %s", r.status, r.body)
	}
	if r := get(t, s.Issuer()+"/revoke"); r.status != 405 {
		t.Errorf("GET: %d", r.status)
	}
	// The hint is only a hint: a refresh token sent as an access token is
	// still found.
	if r := postForm(t, s.Issuer()+"/revoke", url.Values{"token": {ts.RefreshToken}, "token_type_hint": {"access_token"}}); r.status != 200 ||
		s.RefreshTokenLive(ts.RefreshToken) {
		t.Errorf("wrong hint: %d, live %v", r.status, s.RefreshTokenLive(ts.RefreshToken))
	}
	if st := s.Stats(); st.Revocations != 3 {
		t.Errorf("Revocations = %d, want the 3 answered 200", st.Revocations)
	}
}

func TestUsersMeAndUserInfo(t *testing.T) {
	clk := newClock()
	s := NewTest(t, Options{Now: clk.Now})
	u := s.User()
	ts := s.Mint(MintRequest{Scopes: []string{"openid", "email"}, AccessTTL: time.Hour})

	me := get(t, s.URL()+"/api/1/users/me", "Authorization", "Bearer "+ts.AccessToken)
	resp, _ := me.json(t)["response"].(map[string]any)
	if me.status != 200 || resp["email"] != u.Email || resp["full_name"] != u.FullName {
		t.Fatalf("users/me: %d %s", me.status, me.body)
	}
	if _, ok := resp["profile_image_url"]; !ok {
		t.Error("users/me lacks profile_image_url")
	}
	info := get(t, s.Issuer()+"/userinfo", "Authorization", "bearer "+ts.AccessToken)
	if b := info.json(t); info.status != 200 || b["sub"] != u.Subject || b["email"] != u.Email || b["email_verified"] != true {
		t.Fatalf("userinfo: %d %s", info.status, info.body)
	}

	for name, header := range map[string]string{
		"no header": "", "unknown": "Bearer eyJunknown", "basic": "Basic " + ts.AccessToken,
	} {
		r := get(t, s.URL()+"/api/1/users/me", "Authorization", header)
		if r.status != 401 || r.str(t, "error") != "invalid_token" || !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	clk.Advance(time.Hour)
	if r := get(t, s.URL()+"/api/1/users/me", "Authorization", "Bearer "+ts.AccessToken); r.status != 401 || r.str(t, "error") != "invalid_token" {
		t.Errorf("expired: %d %s", r.status, r.body)
	}
	fresh := s.Mint(MintRequest{})
	postForm(t, s.Issuer()+"/revoke", url.Values{"token": {fresh.AccessToken}})
	if r := get(t, s.Issuer()+"/userinfo", "Authorization", "Bearer "+fresh.AccessToken); r.status != 401 {
		t.Errorf("revoked: %d %s", r.status, r.body)
	}
	partner := postForm(t, s.Issuer()+"/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {PartnerClientID}, "client_secret": {PartnerSecret}})
	if r := get(t, s.URL()+"/api/1/users/me", "Authorization", "Bearer "+partner.str(t, "access_token")); r.status != 403 {
		t.Errorf("partner token: %d %s", r.status, r.body)
	}
	if st := s.Stats(); st.UserInfo != 2 {
		t.Errorf("UserInfo = %d, want 2", st.UserInfo)
	}
}

func TestMint(t *testing.T) {
	s := NewTest(t, Options{})
	ts := s.Mint(MintRequest{ClientID: "app", Scopes: []string{"openid", "vehicle_cmds"}, Audience: "https://aud.example.test"})
	c := claims(t, ts.AccessToken)
	if c["azp"] != "app" || !slices.Equal(strs(c["aud"]), []string{TeslaFleetAPIBase("na"), TeslaFleetAPIBase("eu"), s.Issuer() + "/userinfo"}) {
		t.Errorf("claims %v", c)
	}
	if ts.TokenType != "Bearer" || ts.IDToken == "" || !slices.Equal(ts.Scopes, []string{"openid", "vehicle_cmds"}) ||
		!strings.HasPrefix(ts.RefreshToken, "NA_") || ts.Expiry.Unix() != int64(c["exp"].(float64)) {
		t.Errorf("token set %+v", ts)
	}
	if st := s.Stats(); st != (Stats{}) {
		t.Errorf("Mint counted: %+v", st)
	}

	partnerLike := s.Mint(MintRequest{NoRefresh: true})
	if partnerLike.RefreshToken != "" || partnerLike.IDToken != "" {
		t.Errorf("NoRefresh token set %+v", partnerLike)
	}

	expired := s.Mint(MintRequest{AccessTTL: -time.Minute})
	if info, ok := s.AccessToken(expired.AccessToken); !ok || !info.Expiry.Before(time.Now()) || !expired.Expiry.Before(time.Now()) {
		t.Errorf("negative TTL: %+v", info)
	}
	if r := get(t, s.URL()+"/api/1/users/me", "Authorization", "Bearer "+expired.AccessToken); r.status != 401 {
		t.Errorf("expired minted token accepted: %d", r.status)
	}
	// An expired access token still comes with a working refresh token.
	if r := refresh(t, s, FleetClientID, expired.RefreshToken); r.status != 200 {
		t.Errorf("refresh of an expired minted account: %d", r.status)
	}

	legacy := s.Mint(MintRequest{Legacy: true})
	if !strings.HasPrefix(legacy.AccessToken, "qts-") || legacy.TokenType != "bearer" || time.Until(legacy.Expiry) < 44*24*time.Hour {
		t.Errorf("legacy token set %+v", legacy)
	}
	r := postJSON(t, s.URL()+"/oauth/token", map[string]string{"grant_type": "refresh_token", "client_id": LegacyClientID,
		"client_secret": LegacyClientSecret, "refresh_token": legacy.RefreshToken})
	if r.status != 200 {
		t.Errorf("legacy refresh of a minted token: %d %s", r.status, r.body)
	}
	if _, ok := s.AccessToken("nope"); ok {
		t.Error("AccessToken knows a token never issued")
	}
}

func TestUserDefaultsAndRegion(t *testing.T) {
	if d := DefaultUser(); d.Email != "driver@example.com" || d.Password != "sandbox-password" || d.FullName != "Sandbox Driver" ||
		d.Region != "NA" || len(d.Subject) != 36 {
		t.Fatalf("DefaultUser %+v", d)
	}
	s := NewTest(t, Options{User: User{Region: "eu", Email: "fahrer@example.de"}})
	u := s.User()
	if u.Region != "EU" || u.Email != "fahrer@example.de" || u.Password != DefaultUser().Password {
		t.Fatalf("User %+v", u)
	}
	ts := s.Mint(MintRequest{Scopes: []string{"openid"}})
	if !strings.HasPrefix(ts.RefreshToken, "EU_") || claims(t, ts.AccessToken)["ou_code"] != "EU" ||
		claims(t, ts.IDToken)["email"] != "fahrer@example.de" {
		t.Fatalf("token set %+v", ts)
	}
}

func TestResetStats(t *testing.T) {
	s := NewTest(t, Options{})
	login(t, s, FleetClientID, "openid", nil)
	if s.Stats().CodeExchanges != 1 {
		t.Fatal("not counted")
	}
	s.ResetStats()
	if st := s.Stats(); st != (Stats{}) {
		t.Fatalf("after reset %+v", st)
	}
}
