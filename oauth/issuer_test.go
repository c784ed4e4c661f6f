package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/accounts"
)

// The callback's issuer moves an account only between Tesla's sign-in
// hosts (https), or between loopback hosts when the configured one is
// loopback; anything else is refused.
func TestSwitchIssuer(t *testing.T) {
	owner, _ := Preset(accounts.KindOwner, "na")
	fleet, _ := Preset(accounts.KindFleet, "eu")
	fleet.Endpoints.RevokeURL = "https://auth.tesla.com/oauth2/v3/revoke"
	cnOwner, _ := Preset(accounts.KindOwner, "cn")
	local := accounts.Account{Kind: accounts.KindOwner, Region: "na", Endpoints: accounts.Endpoints{
		AuthURL: "http://127.0.0.1:5000/oauth2/v3/authorize", TokenURL: "http://127.0.0.1:5000/oauth2/v3/token"}}
	custom := customCodeAccount("https://auth.example/token")
	cases := []struct {
		name     string
		a        accounts.Account
		issuer   string
		token    string // the token URL after the switch; "" = refused
		switched bool
	}{
		{"no issuer", owner, "", owner.Endpoints.TokenURL, false},
		{"same host", owner, "https://auth.tesla.com/oauth2/v3", owner.Endpoints.TokenURL, false},
		{"owner to China", owner, "https://auth.tesla.cn/oauth2/v3", "https://auth.tesla.cn/oauth2/v3/token", true},
		{"fleet to China", fleet, "https://auth.tesla.cn/oauth2/v3", "https://auth.tesla.cn/oauth2/v3/token", true},
		{"fleet's own token host", fleet, "https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3", fleet.Endpoints.TokenURL, false},
		{"China to .com", cnOwner, "https://auth.tesla.com/oauth2/v3", "https://auth.tesla.com/oauth2/v3/token", true},
		{"elsewhere", owner, "https://evil.example/oauth2/v3", "", false},
		{"plain http Tesla", owner, "http://auth.tesla.cn/oauth2/v3", "", false},
		{"lookalike", owner, "https://auth.tesla.cn.evil.example/", "", false},
		{"not a URL", owner, "::not a url", "", false},
		{"loopback to Tesla", local, "https://auth.tesla.cn/oauth2/v3", "", false},
		{"loopback to loopback", local, "http://127.0.0.1:6000/oauth2/v3", "http://127.0.0.1:6000/oauth2/v3/token", true},
		{"loopback to https loopback", local, "https://127.0.0.1:6000/oauth2/v3", "", false},
		{"custom ignores it", custom, "https://evil.example/", custom.Endpoints.TokenURL, false},
	}
	for _, tc := range cases {
		got, switched, err := switchIssuer(tc.a, tc.issuer)
		switch {
		case tc.token == "" && err == nil:
			t.Errorf("%s: switched to %q", tc.name, got.Endpoints.TokenURL)
		case tc.token != "" && (err != nil || got.Endpoints.TokenURL != tc.token || switched != tc.switched):
			t.Errorf("%s: %q %v %v", tc.name, got.Endpoints.TokenURL, switched, err)
		}
	}
	cn, _, _ := switchIssuer(fleet, "https://auth.tesla.cn/oauth2/v3")
	if cn.Region != "cn" || cn.Audience != "https://fleet-api.prd.cn.vn.cloud.tesla.cn" ||
		cn.Endpoints.AuthURL != "https://auth.tesla.cn/oauth2/v3/authorize" || cn.Endpoints.RevokeURL != "https://auth.tesla.cn/oauth2/v3/revoke" ||
		!strings.HasPrefix(consentURL(cn), "https://auth.tesla.cn/") {
		t.Errorf("fleet in China: %+v", cn)
	}
}

// fleetOnLoopback is a fleet account whose token endpoint is tokenURL (a
// fake server's), signing in (as configured) at Tesla's .com hosts, with
// the redirect URI redirect ("" for a pasted https one).
func fleetOnLoopback(tokenURL string, redirect ...string) accounts.Account {
	a, _ := Preset(accounts.KindFleet, "na")
	a.ClientID = "app"
	a.Endpoints.RedirectURI = "https://app.example/callback"
	if len(redirect) > 0 {
		a.Endpoints.RedirectURI = redirect[0]
	}
	a.Endpoints.TokenURL = tokenURL
	return a
}

// A token that names a region of the other hosts, when the sign-in's
// issuer did not move the login there, ends the login with a clear error
// and no account.
func TestLoginRefusesARegionOfTheOtherHosts(t *testing.T) {
	access := makeJWT(t, map[string]any{"sub": "u1", "ou_code": "CN", "aud": []string{"https://fleet-api.prd.cn.vn.cloud.tesla.cn"}})
	srv := newFakeTokenServer(t, jsonAnswer(200, `{"access_token":"`+access+`","token_type":"Bearer","expires_in":3600}`))
	f, err := (&Engine{}).StartCodeFlow(context.Background(), fleetOnLoopback(srv.URL+"/token"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = f.Complete(context.Background(), "https://app.example/callback?code=c&state="+url.QueryEscape(f.state))
	if !errors.Is(err, ErrRegionHosts) || !strings.Contains(err.Error(), "region cn") {
		t.Fatalf("got %v", err)
	}

	// The same token after the issuer sent the login to auth.tesla.cn is fine
	// (here the token endpoint stays the fake one: a loopback account).
	eu := makeJWT(t, map[string]any{"sub": "u1", "ou_code": "EU",
		"aud": []string{"https://evil.example/fleet-api", "https://fleet-api.prd.eu.vn.cloud.tesla.com", "https://auth.tesla.com/oauth2/v3/userinfo"}})
	srv2 := newFakeTokenServer(t, jsonAnswer(200, `{"access_token":"`+eu+`","token_type":"Bearer","expires_in":3600}`))
	g, err := (&Engine{}).StartCodeFlow(context.Background(), fleetOnLoopback(srv2.URL+"/token"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	got, err := g.Complete(context.Background(), "code-only")
	if err != nil || got.Region != "eu" || got.Audience != "https://fleet-api.prd.eu.vn.cloud.tesla.com" {
		t.Fatalf("eu token: %+v %v", got, err)
	}
}

// The id token must carry this login's nonce when it carries one.
func TestCodeExchangeChecksTheNonce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nonce any // nil: no nonce claim
		ok    bool
	}{{"another login's", "not-this-login", false}, {"not a string", 42, false}, {"none", nil, true}, {"this login's", "", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var f *CodeFlow
			srv := newFakeTokenServer(t, func(w http.ResponseWriter, _ url.Values) {
				claims := map[string]any{"sub": "u1", "email": "me@example.com"}
				switch {
				case tc.nonce == "":
					claims["nonce"] = f.nonce
				case tc.nonce != nil:
					claims["nonce"] = tc.nonce
				}
				jsonAnswer(200, `{"access_token":"a","token_type":"bearer","id_token":"`+makeJWT(t, claims)+`"}`)(w, nil)
			})
			a := customCodeAccount(srv.URL + "/token")
			a.Endpoints.RedirectURI = "https://app.example/cb"
			var err error
			if f, err = (&Engine{}).StartCodeFlow(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			got, err := f.Complete(context.Background(), "https://app.example/cb?code=c&state="+url.QueryEscape(f.state))
			switch {
			case tc.ok && (err != nil || got.Email != "me@example.com"):
				t.Fatalf("got %+v %v", got, err)
			case !tc.ok && (err == nil || !strings.Contains(err.Error(), "nonce") || got.AccessToken != ""):
				t.Fatalf("got %+v %v", got, err)
			}
		})
	}
}
