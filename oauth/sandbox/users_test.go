package sandbox

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// euUser and cnUser are extra users of the tests.
var (
	euUser = User{Email: "fahrer@example.de", Password: "eu-password", FullName: "Fahrerin", Region: "eu"}
	cnUser = User{Email: "driver@example.cn", Password: "cn-password", FullName: "Li Driver", Region: "CN"}
)

// exchange redeems code at base's token endpoint for client.
func exchange(t *testing.T, base, client, code, verifier string) response {
	t.Helper()
	return postForm(t, base+"/oauth2/v3/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {client},
		"code": {code}, "redirect_uri": {loopbackRedirect}, "code_verifier": {verifier}})
}

// loginHinted logs in at the main host with login_hint, following a
// redirect to the China host, and returns the token answer and the
// callback's query.
func loginHinted(t *testing.T, s *Server, hint, scope string) (response, url.Values) {
	t.Helper()
	verifier, challenge := pkce("hint")
	q := authorizeParams(FleetClientID, loopbackRedirect, challenge, scope)
	q.Set("login_hint", hint)
	u := location(t, get(t, s.Issuer()+"/authorize?"+q.Encode()))
	if strings.HasPrefix(u.String(), s.CNURL()) {
		u = location(t, get(t, u.String()))
	}
	cb := u.Query()
	base := strings.TrimSuffix(cb.Get("issuer"), "/oauth2/v3")
	r := exchange(t, base, FleetClientID, cb.Get("code"), verifier)
	if r.status != 200 {
		t.Fatalf("exchange for %s: %d %s", hint, r.status, r.body)
	}
	return r, cb
}

func TestLoginHintPicksTheUserAndRegion(t *testing.T) {
	s := NewTest(t, Options{Users: []User{euUser}})
	eu := s.Users()[1]
	if eu.Region != "EU" || eu.Subject == "" || eu.Subject == s.User().Subject || eu.Password != "eu-password" {
		t.Fatalf("extra user %+v", eu)
	}
	r, _ := loginHinted(t, s, "Fahrer@Example.de", "openid offline_access user_data")
	at := claims(t, r.str(t, "access_token"))
	if at["ou_code"] != "EU" || at["sub"] != eu.Subject {
		t.Errorf("claims %v", at)
	}
	if got := strs(at["aud"]); !slices.Equal(got, []string{TeslaFleetAPIBase("na"), TeslaFleetAPIBase("eu"), s.Issuer() + "/userinfo"}) {
		t.Errorf("aud %v", got)
	}
	if id := claims(t, r.str(t, "id_token")); id["email"] != eu.Email || id["sub"] != eu.Subject {
		t.Errorf("id claims %v", id)
	}
	if rt := r.str(t, "refresh_token"); !strings.HasPrefix(rt, "EU_") {
		t.Errorf("refresh token %q", rt)
	}
	// A refresh keeps the user.
	rr := refresh(t, s, FleetClientID, r.str(t, "refresh_token"))
	if c := claims(t, rr.str(t, "access_token")); c["ou_code"] != "EU" || c["sub"] != eu.Subject {
		t.Errorf("refreshed claims %v", c)
	}
	me := get(t, s.URL()+"/api/1/users/me", "Authorization", "Bearer "+r.str(t, "access_token"))
	if resp, _ := me.json(t)["response"].(map[string]any); resp["email"] != eu.Email || resp["full_name"] != "Fahrerin" {
		t.Errorf("users/me %s", me.body)
	}

	for _, hint := range []string{"", "nobody@example.com"} {
		r, _ := loginHinted(t, s, hint, "openid")
		if c := claims(t, r.str(t, "access_token")); c["sub"] != s.User().Subject || c["ou_code"] != "NA" {
			t.Errorf("hint %q: claims %v", hint, c)
		}
	}
}

func TestLoginFormPicksTheUserByEmail(t *testing.T) {
	s := NewTest(t, Options{LoginForm: true, Users: []User{euUser}})
	verifier, challenge := pkce("form")
	q := authorizeParams(FleetClientID, loopbackRedirect, challenge, "openid")
	submit := func(email, password string) response {
		f := url.Values{}
		for k, v := range q {
			f[k] = v
		}
		f.Set("email", email)
		f.Set("password", password)
		return postForm(t, s.Issuer()+"/authorize", f)
	}
	if r := submit(euUser.Email, DefaultUser().Password); r.status != 401 {
		t.Fatalf("another user's password: %d", r.status)
	}
	u := location(t, submit(euUser.Email, euUser.Password))
	r := exchange(t, s.URL(), FleetClientID, u.Query().Get("code"), verifier)
	if c := claims(t, r.str(t, "access_token")); c["ou_code"] != "EU" || c["sub"] != s.Users()[1].Subject {
		t.Fatalf("claims %v", c)
	}
}

func TestPasswordGrantsKnowEveryUser(t *testing.T) {
	s := NewTest(t, Options{Users: []User{euUser}})
	r := postForm(t, s.Issuer()+"/token", url.Values{"grant_type": {"password"}, "client_id": {"custom-app"},
		"username": {euUser.Email}, "password": {euUser.Password}, "scope": {"openid"}})
	if r.status != 200 || claims(t, r.str(t, "access_token"))["ou_code"] != "EU" {
		t.Fatalf("v3 password grant: %d %s", r.status, r.body)
	}
	legacy := postJSON(t, s.URL()+"/oauth/token", map[string]string{"grant_type": "password", "client_id": LegacyClientID,
		"client_secret": LegacyClientSecret, "email": euUser.Email, "password": euUser.Password})
	if legacy.status != 200 {
		t.Fatalf("legacy password grant: %d %s", legacy.status, legacy.body)
	}
	if info, _ := s.AccessToken(legacy.str(t, "access_token")); info.Email != euUser.Email {
		t.Errorf("legacy token of %q", info.Email)
	}
}

func TestMintForAUser(t *testing.T) {
	s := NewTest(t, Options{Users: []User{euUser}})
	ts := s.Mint(MintRequest{Email: euUser.Email, Scopes: []string{"openid", "offline_access"}})
	if c := claims(t, ts.AccessToken); c["ou_code"] != "EU" || !strings.HasPrefix(ts.RefreshToken, "EU_") {
		t.Fatalf("minted %v %q", c, ts.RefreshToken)
	}
	defer func() {
		if recover() == nil {
			t.Error("Mint for an unknown email did not panic")
		}
	}()
	s.Mint(MintRequest{Email: "nobody@example.com"})
}

func TestUsersNeedDistinctEmails(t *testing.T) {
	for name, users := range map[string][]User{
		"no email":  {{Region: "EU"}},
		"duplicate": {{Email: "DRIVER@example.com"}},
		"twice":     {euUser, {Email: euUser.Email}},
	} {
		if s, err := Start(Options{Users: users}); err == nil {
			s.Close()
			t.Errorf("%s: started", name)
		}
	}
}
