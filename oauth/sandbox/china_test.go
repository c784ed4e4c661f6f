package sandbox

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestChinaLoginMovesToTheChinaHost(t *testing.T) {
	s := NewTest(t, Options{Users: []User{cnUser}})
	if s.CNURL() == s.URL() || !strings.HasPrefix(s.CNURL(), "http://127.0.0.1:") || s.CNIssuer() != s.CNURL()+"/oauth2/v3" {
		t.Fatalf("URL %s CNURL %s CNIssuer %s", s.URL(), s.CNURL(), s.CNIssuer())
	}
	verifier, challenge := pkce("china")
	q := authorizeParams(FleetClientID, loopbackRedirect, challenge, "openid offline_access user_data")
	q.Set("login_hint", cnUser.Email)
	moved := location(t, get(t, s.Issuer()+"/authorize?"+q.Encode()))
	if got := moved.Scheme + "://" + moved.Host + moved.Path; got != s.CNIssuer()+"/authorize" {
		t.Fatalf("redirected to %s", moved)
	}
	if got := moved.Query(); got.Encode() != q.Encode() {
		t.Fatalf("the request changed on the way:\n%s\n%s", got.Encode(), q.Encode())
	}
	if s.Stats().Authorize != 0 {
		t.Error("the redirect counted as an authorization")
	}
	cb := location(t, get(t, moved.String())).Query()
	if cb.Get("issuer") != s.CNIssuer() || cb.Get("state") != "st4te" || cb.Get("code") == "" {
		t.Fatalf("callback %v", cb)
	}

	// The main host does not know the code, and leaves it for its host.
	if r := exchange(t, s.URL(), FleetClientID, cb.Get("code"), verifier); r.status != 400 || r.str(t, "error") != "invalid_grant" {
		t.Fatalf("exchange at the main host: %d %s", r.status, r.body)
	}
	r := exchange(t, s.CNURL(), FleetClientID, cb.Get("code"), verifier)
	if r.status != 200 {
		t.Fatalf("exchange at the China host: %d %s", r.status, r.body)
	}
	at := claims(t, r.str(t, "access_token"))
	if at["iss"] != s.CNIssuer() || at["ou_code"] != "CN" ||
		!slices.Equal(strs(at["aud"]), []string{TeslaFleetAPIBase("cn"), s.CNIssuer() + "/userinfo"}) {
		t.Errorf("access claims %v", at)
	}
	if id := claims(t, r.str(t, "id_token")); id["iss"] != s.CNIssuer() || id["email"] != cnUser.Email {
		t.Errorf("id claims %v", id)
	}
	rt := r.str(t, "refresh_token")
	if !strings.HasPrefix(rt, "CN_") {
		t.Errorf("refresh token %q", rt)
	}

	// Its refresh token refreshes only at the China host.
	if r := refresh(t, s, FleetClientID, rt); r.status != 401 || r.str(t, "error") != "login_required" || !s.RefreshTokenLive(rt) {
		t.Fatalf("refresh at the main host: %d %s", r.status, r.body)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {FleetClientID}, "refresh_token": {rt}}
	rr := postForm(t, s.CNIssuer()+"/token", form)
	if rr.status != 200 || claims(t, rr.str(t, "access_token"))["iss"] != s.CNIssuer() {
		t.Fatalf("refresh at the China host: %d %s", rr.status, rr.body)
	}
	if info, _ := s.AccessToken(rr.str(t, "access_token")); !info.China || info.Email != cnUser.Email {
		t.Errorf("AccessToken %+v", info)
	}
	if st := s.Stats(); st.Authorize != 1 || st.CodeExchanges != 1 || st.Refreshes != 1 {
		t.Errorf("stats of both hosts %+v", st)
	}
	if tr := s.LastTokenRequest(); !tr.China || tr.Proto != "HTTP/1.1" || tr.TLSVersion != 0 {
		t.Errorf("LastTokenRequest %+v", tr)
	}
}

func TestMainHostCodesAndTokensStayThere(t *testing.T) {
	s := NewTest(t, Options{Users: []User{cnUser}})
	verifier, challenge := pkce("main")
	code := authorize(t, s, FleetClientID, loopbackRedirect, challenge, "openid offline_access")
	if r := exchange(t, s.CNURL(), FleetClientID, code, verifier); r.status != 400 || r.str(t, "error") != "invalid_grant" {
		t.Fatalf("exchange at the China host: %d %s", r.status, r.body)
	}
	r := exchange(t, s.URL(), FleetClientID, code, verifier)
	if r.status != 200 || claims(t, r.str(t, "access_token"))["iss"] != s.Issuer() {
		t.Fatalf("exchange at the main host: %d %s", r.status, r.body)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {FleetClientID}, "refresh_token": {r.str(t, "refresh_token")}}
	if r := postForm(t, s.CNIssuer()+"/token", form); r.status != 401 || r.str(t, "error") != "login_required" {
		t.Fatalf("refresh at the China host: %d %s", r.status, r.body)
	}
	// Revoking at the wrong host is answered but changes nothing.
	if r := postForm(t, s.CNIssuer()+"/revoke", url.Values{"token": {form.Get("refresh_token")}}); r.status != 200 {
		t.Fatalf("revoke at the China host: %d", r.status)
	}
	if !s.RefreshTokenLive(form.Get("refresh_token")) {
		t.Fatal("the China host revoked a main-host token")
	}
}

func TestMintedChinaTokensBelongToTheChinaHost(t *testing.T) {
	s := NewTest(t, Options{Users: []User{cnUser}})
	ts := s.Mint(MintRequest{ClientID: "ownerapi", Email: cnUser.Email, Scopes: []string{"openid", "email", "offline_access"}})
	if c := claims(t, ts.RefreshToken); c["iss"] != s.CNIssuer() || c["ou_code"] != "CN" || c["aud"] != s.CNIssuer()+"/token" {
		t.Fatalf("owner refresh token claims %v", c)
	}
	if r := refresh(t, s, "ownerapi", ts.RefreshToken); r.status != 401 {
		t.Fatalf("refresh at the main host: %d", r.status)
	}
	rev := postForm(t, s.CNIssuer()+"/revoke", url.Values{"token": {ts.RefreshToken}})
	if rev.status != 200 || s.RefreshTokenLive(ts.RefreshToken) {
		t.Fatalf("revoke at the China host: %d, live %v", rev.status, s.RefreshTokenLive(ts.RefreshToken))
	}
}

func TestChinaDiscoveryNamesChinaEndpoints(t *testing.T) {
	s := NewTest(t, Options{})
	for base, iss := range map[string]string{s.URL(): s.Issuer(), s.CNURL(): s.CNIssuer()} {
		d := get(t, base+"/oauth2/v3/thirdparty/.well-known/openid-configuration").json(t)
		if d["issuer"] != iss || d["token_endpoint"] != iss+"/token" || d["authorization_endpoint"] != iss+"/authorize" ||
			d["revocation_endpoint"] != iss+"/revoke" {
			t.Errorf("%s: %v", base, d)
		}
	}
}

func TestChinaLoginFormMovesWithoutThePassword(t *testing.T) {
	s := NewTest(t, Options{LoginForm: true, Users: []User{cnUser}})
	_, challenge := pkce("form")
	f := authorizeParams("ownerapi", OwnerRedirectURI, challenge, "openid email offline_access")
	f.Set("email", cnUser.Email)
	f.Set("password", cnUser.Password)
	moved := location(t, postForm(t, s.Issuer()+"/authorize", f))
	if !strings.HasPrefix(moved.String(), s.CNIssuer()+"/authorize?") || moved.Query().Get("login_hint") != cnUser.Email ||
		strings.Contains(moved.String(), cnUser.Password) || moved.Query().Has("email") {
		t.Fatalf("moved to %s", moved)
	}
	// The China host asks again, with the email filled in.
	page := get(t, moved.String())
	if page.status != 200 || !strings.Contains(string(page.body), `value="`+cnUser.Email+`"`) {
		t.Fatalf("China login form: %d %s", page.status, page.body)
	}
}

func TestSignInFollowsToTheChinaHost(t *testing.T) {
	s := NewTest(t, Options{Users: []User{cnUser}})
	_, challenge := pkce("sign")
	q := authorizeParams("ownerapi", OwnerRedirectURI, challenge, "openid email offline_access")
	q.Set("login_hint", cnUser.Email)
	landed, err := s.SignIn(context.Background(), s.Issuer()+"/authorize?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(landed)
	if !strings.HasPrefix(landed, OwnerRedirectURI+"?") || u.Query().Get("issuer") != s.CNIssuer() {
		t.Fatalf("landed on %s", landed)
	}
	s.FailNext(FaultDenied, 1)
	landed, err = s.SignIn(context.Background(), s.Issuer()+"/authorize?"+q.Encode())
	if u, _ := url.Parse(landed); err != nil || u.Query().Get("error") != "login_cancelled" {
		t.Fatalf("denied at the China host: %s %v", landed, err)
	}
}

func TestCloseClosesBothHosts(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := get(t, s.CNURL()+"/.well-known/openid-configuration"); r.status != 200 {
		t.Fatalf("China host: %d", r.status)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{s.URL(), s.CNURL()} {
		if resp, err := http.Get(base + "/.well-known/openid-configuration"); err == nil {
			resp.Body.Close()
			t.Errorf("%s still serves", base)
		}
	}
}
