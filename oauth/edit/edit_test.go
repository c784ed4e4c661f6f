package edit

import (
	"errors"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// teslaAccount is a logged-in account of kind k in region as its preset
// makes it.
func teslaAccount(t *testing.T, k accounts.Kind, region string) accounts.Account {
	t.Helper()
	a, err := oauth.Preset(k, region)
	if err != nil {
		t.Fatal(err)
	}
	a.Name, a.ClientID, a.RefreshToken, a.AccessToken = "car", "my-app", "NA_refresh", "access"
	if k == accounts.KindPartner {
		a.ClientSecret = "secret"
	}
	return a
}

func changed(cs []Change) string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Field))
	}
	return strings.Join(out, " ")
}

func TestRegionMovesPresets(t *testing.T) {
	a := teslaAccount(t, accounts.KindFleet, "na")
	before := a
	notes, err := Apply(&a, Changes{oauth.FieldRegion: " EU "}, nil, Consent{})
	if err != nil || len(notes) != 0 {
		t.Fatal(err, notes)
	}
	eu, _ := oauth.Preset(accounts.KindFleet, "eu")
	if a.Region != "eu" || a.Audience != eu.Audience || a.Endpoints != eu.Endpoints || a.RefreshToken != "NA_refresh" {
		t.Fatalf("after %+v", a)
	}
	if got := changed(Diff(before, a)); got != "region audience" {
		t.Fatalf("diff %s", got)
	}

	a = before
	if _, err := Apply(&a, Changes{oauth.FieldRegion: "cn"}, nil, Consent{}); err != nil {
		t.Fatal(err)
	}
	if got := changed(Diff(before, a)); got != "region audience auth_url token_url userinfo_url" ||
		!strings.HasPrefix(a.Endpoints.TokenURL, "https://auth.tesla.cn/") {
		t.Fatalf("cn: %s %+v", got, a.Endpoints)
	}

	// Given explicitly, a field does not move.
	a = before
	if _, err := Apply(&a, Changes{oauth.FieldRegion: "eu", oauth.FieldAudience: "https://proxy.example.com"}, nil, Consent{LeaveTesla: true}); err != nil {
		t.Fatal(err)
	}
	if a.Audience != "https://proxy.example.com" || a.Region != "eu" {
		t.Fatalf("explicit audience: %+v", a)
	}

	// A field the user had changed stays, and a note says so.
	a = before
	a.Endpoints.TokenURL = "https://tokens.example.com/token"
	notes, err = Apply(&a, Changes{oauth.FieldRegion: "cn"}, nil, Consent{})
	if err != nil || a.Endpoints.TokenURL != "https://tokens.example.com/token" || len(notes) != 1 ||
		!strings.Contains(notes[0], "kept the token URL https://tokens.example.com/token") {
		t.Fatalf("custom token URL: %v %v %+v", err, notes, a.Endpoints)
	}
}

func TestPresetsHook(t *testing.T) {
	a := teslaAccount(t, accounts.KindPartner, "na")
	a.Audience = "http://127.0.0.1:9/fleet-api/na"
	presets := func(k accounts.Kind, region string) (accounts.Account, error) {
		p, err := oauth.Preset(k, region)
		p.Audience = "http://127.0.0.1:9/fleet-api/" + region
		return p, err
	}
	if _, err := Apply(&a, Changes{oauth.FieldRegion: "eu"}, presets, Consent{}); err != nil || a.Audience != "http://127.0.0.1:9/fleet-api/eu" {
		t.Fatalf("%v %+v", err, a)
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kind  accounts.Kind
		ch    Changes
		field oauth.Field
		want  string
	}{
		{"bad token URL", accounts.KindFleet, Changes{oauth.FieldTokenURL: "fleet-auth.example.com/token"}, oauth.FieldTokenURL, "not an http or https URL"},
		{"no token URL", accounts.KindFleet, Changes{oauth.FieldTokenURL: ""}, oauth.FieldTokenURL, "needs the token URL"},
		{"bad auth URL", accounts.KindOwner, Changes{oauth.FieldAuthURL: "https://me:pw@auth.example.com"}, oauth.FieldAuthURL, "user name or password"},
		{"bad redirect", accounts.KindFleet, Changes{oauth.FieldRedirectURI: "no scheme"}, oauth.FieldRedirectURI, "not a valid URI"},
		{"bad audience", accounts.KindFleet, Changes{oauth.FieldAudience: "fleet-api.example.com"}, oauth.FieldAudience, "not a Fleet API base URL"},
		{"http audience", accounts.KindPartner, Changes{oauth.FieldAudience: "http://fleet.example.com"}, oauth.FieldAudience, "https"},
		{"unknown region", accounts.KindFleet, Changes{oauth.FieldRegion: "mars"}, oauth.FieldRegion, `unknown region "mars"`},
		{"no region", accounts.KindFleet, Changes{oauth.FieldRegion: ""}, oauth.FieldRegion, "needs a region"},
		{"base URL of fleet", accounts.KindFleet, Changes{oauth.FieldBaseURL: "https://x.example.com"}, oauth.FieldBaseURL, "has no owner-api base URL"},
		{"partner secret", accounts.KindPartner, Changes{oauth.FieldClientSecret: "x"}, oauth.FieldClientSecret, "cannot change"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := teslaAccount(t, tc.kind, "na")
			_, err := Apply(&a, tc.ch, nil, Consent{})
			var fe *oauth.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v", err)
			}
		})
	}
	custom := accounts.Account{Kind: accounts.KindCustom, ClientID: "x", Endpoints: accounts.Endpoints{TokenURL: "https://x.example.com/t"}}
	if Applies(custom, oauth.FieldRegion) || !Applies(custom, oauth.FieldAudience) || Applies(teslaAccount(t, accounts.KindFleet, "na"), oauth.FieldBaseURL) {
		t.Fatal("Applies")
	}
}

// An account the user let use plain http off loopback may be edited to
// another such endpoint, and its other fields edited at all; any other
// account is refused.
func TestPlainHTTPFollowsTheAccountsOptIn(t *testing.T) {
	a := accounts.Account{Kind: accounts.KindCustom, Name: "lab", ClientID: "x",
		Endpoints: accounts.Endpoints{TokenURL: "https://x.example.com/t"}}
	plain := a
	_, err := Apply(&plain, Changes{oauth.FieldTokenURL: "http://lab.example.com/t"}, nil, Consent{})
	if !errors.Is(err, oauth.ErrInsecureHTTP) {
		t.Fatalf("without the opt-in: %v", err)
	}
	a.AllowInsecureHTTP = true
	a.Endpoints.TokenURL = "http://lab.example.com/t"
	if _, err := Apply(&a, Changes{oauth.FieldName: "lab2"}, nil, Consent{}); err != nil {
		t.Fatalf("renaming an opted-in account: %v", err)
	}
	if _, err := Apply(&a, Changes{oauth.FieldRevokeURL: "http://lab.example.com/r"}, nil, Consent{}); err != nil || a.Endpoints.RevokeURL != "http://lab.example.com/r" {
		t.Fatalf("another plain http endpoint of an opted-in account: %v", err)
	}
}

// `keyfob edit NAME --region eu` fixes an account already in region eu
// whose audience stayed North America's (what `keyfob check` then
// advises): the region it has realigns the preset fields.
func TestSameRegionRealignsTheAudience(t *testing.T) {
	a := teslaAccount(t, accounts.KindFleet, "eu")
	na, _ := oauth.Preset(accounts.KindFleet, "na")
	a.Audience = na.Audience
	before := a
	notes, err := Apply(&a, Changes{oauth.FieldRegion: "eu"}, nil, Consent{})
	eu, _ := oauth.Preset(accounts.KindFleet, "eu")
	if err != nil || len(notes) != 0 || a.Audience != eu.Audience || changed(Diff(before, a)) != "audience" {
		t.Fatalf("audience %q, notes %v, err %v", a.Audience, notes, err)
	}
	// An audience of the user's own stays, without a note: nothing moved.
	a.Audience = "https://proxy.example/api"
	if notes, err := Apply(&a, Changes{oauth.FieldRegion: "eu"}, nil, Consent{}); err != nil || len(notes) != 0 || a.Audience != "https://proxy.example/api" {
		t.Fatalf("own audience %q, notes %v, err %v", a.Audience, notes, err)
	}
}

// The sandbox's per-region API base moves with the region, as the region
// correction moves it; an API base of the user's own stays, with a note.
func TestRegionMovesTheAPIBase(t *testing.T) {
	a := teslaAccount(t, accounts.KindFleet, "na")
	a.Endpoints.APIBaseURL = "http://127.0.0.1:8765/fleet-api/na"
	if notes, err := Apply(&a, Changes{oauth.FieldRegion: "eu"}, nil, Consent{}); err != nil || len(notes) != 0 ||
		a.Endpoints.APIBaseURL != "http://127.0.0.1:8765/fleet-api/eu" {
		t.Fatalf("API base %q, notes %v, err %v", a.Endpoints.APIBaseURL, notes, err)
	}
	a.Endpoints.APIBaseURL = "https://proxy.example"
	notes, err := Apply(&a, Changes{oauth.FieldRegion: "na"}, nil, Consent{})
	if err != nil || a.Endpoints.APIBaseURL != "https://proxy.example" || len(notes) != 1 || !strings.Contains(notes[0], "API base URL") {
		t.Fatalf("own API base %q, notes %v, err %v", a.Endpoints.APIBaseURL, notes, err)
	}
	for _, bad := range []string{"ftp://x", "http://proxy.example", "https://u:p@proxy.example"} {
		b := a
		if _, err := Apply(&b, Changes{oauth.FieldAPIBaseURL: bad}, nil, Consent{}); err == nil {
			t.Errorf("API base %q accepted", bad)
		}
	}
}

// TestLeavingTeslasHostsTakesConsent: a Tesla account's endpoint or
// audience moving to a host that is not Tesla's — by exact name — is
// refused, naming the host, unless the user consents; Tesla's own hosts,
// a host the account already used and custom accounts need none.
func TestLeavingTeslasHostsTakesConsent(t *testing.T) {
	evil := "https://fleet-auth.prd.vn.cloud.tesla.com.attacker.example/oauth2/v3/token"
	for _, tc := range []struct {
		name string
		kind accounts.Kind
		ch   Changes
		host string // "" when no consent is needed
	}{
		{"token URL on a look-alike host", accounts.KindFleet, Changes{oauth.FieldTokenURL: evil}, "fleet-auth.prd.vn.cloud.tesla.com.attacker.example"},
		{"auth URL elsewhere", accounts.KindOwner, Changes{oauth.FieldAuthURL: "https://login.example.com/authorize"}, "login.example.com"},
		{"Tesla's host on another port", accounts.KindFleet, Changes{oauth.FieldTokenURL: "https://fleet-auth.prd.vn.cloud.tesla.com:8443/oauth2/v3/token"}, "fleet-auth.prd.vn.cloud.tesla.com:8443"},
		{"legacy base URL elsewhere", accounts.KindLegacy, Changes{oauth.FieldBaseURL: "https://owner-api.example.org"}, "owner-api.example.org"},
		{"audience on a tesla.com name with fleet-api", accounts.KindPartner, Changes{oauth.FieldAudience: "https://fleet-api.evil.tesla.com"}, "fleet-api.evil.tesla.com"},
		{"another Tesla path", accounts.KindFleet, Changes{oauth.FieldTokenURL: "https://auth.tesla.com/oauth2/v3/token"}, ""},
		{"another region's Fleet API", accounts.KindFleet, Changes{oauth.FieldAudience: "https://fleet-api.prd.eu.vn.cloud.tesla.com"}, ""},
		{"a custom account", accounts.KindCustom, Changes{oauth.FieldTokenURL: evil}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := teslaAccount(t, tc.kind, "na")
			if tc.kind == accounts.KindCustom {
				a = accounts.Account{Kind: accounts.KindCustom, Name: "car", ClientID: "x", RefreshToken: "r",
					Endpoints: accounts.Endpoints{TokenURL: "https://auth.tesla.com/oauth2/v3/token"}}
			}
			before := a
			_, err := Apply(&a, tc.ch, nil, Consent{})
			if tc.host == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ce *ConsentError
			if !errors.As(err, &ce) || !errors.Is(err, ErrLeavesTesla) || errors.Is(err, oauth.ErrInsecureHTTP) ||
				!strings.Contains(err.Error(), tc.host+", which is not one of Tesla's hosts") {
				t.Fatalf("no consent asked, or the host not named: %v", err)
			}
			a = before
			if _, err := Apply(&a, tc.ch, nil, Consent{LeaveTesla: true}); err != nil {
				t.Fatalf("with consent: %v", err)
			}
			// Once there, the host is the account's: moving another field
			// to it needs no consent.
			after := a
			other := Changes{oauth.FieldRevokeURL: "https://" + tc.host + "/revoke"}
			if tc.kind == accounts.KindLegacy || tc.kind == accounts.KindPartner {
				return
			}
			if _, err := Apply(&after, other, nil, Consent{}); err != nil {
				t.Fatalf("a host the account already uses: %v", err)
			}
		})
	}
}

// TestPlainHTTPOptInIsRecomputed: the opt-in to plain http covers the
// hosts it was given for. An edit to a new plain http host needs consent
// again; an account edited to https loses the opt-in, so going back to
// plain http, even to the same host, needs it again.
func TestPlainHTTPOptInIsRecomputed(t *testing.T) {
	a := accounts.Account{Kind: accounts.KindCustom, Name: "lab", ClientID: "x", RefreshToken: "r", AllowInsecureHTTP: true,
		Endpoints: accounts.Endpoints{TokenURL: "http://lab.example.com/t"}}
	// The same host: no consent, the opt-in stays.
	if _, err := Apply(&a, Changes{oauth.FieldTokenURL: "http://lab.example.com/token"}, nil, Consent{}); err != nil || !a.AllowInsecureHTTP {
		t.Fatalf("same host: %v, opt-in %v", err, a.AllowInsecureHTTP)
	}
	// Another plain http host: consent.
	b := a
	_, err := Apply(&b, Changes{oauth.FieldTokenURL: "http://other.example.com/token"}, nil, Consent{})
	var ce *ConsentError
	if !errors.As(err, &ce) || !errors.Is(err, oauth.ErrInsecureHTTP) || len(ce.PlainHTTP) != 1 || ce.PlainHTTP[0].Host != "other.example.com" {
		t.Fatalf("a new plain http host: %v", err)
	}
	// To https: the opt-in goes.
	if _, err := Apply(&a, Changes{oauth.FieldTokenURL: "https://lab.example.com/token"}, nil, Consent{}); err != nil || a.AllowInsecureHTTP {
		t.Fatalf("to https: %v, opt-in %v", err, a.AllowInsecureHTTP)
	}
	// And back: consent again, then the opt-in again.
	back := a
	if _, err := Apply(&back, Changes{oauth.FieldTokenURL: "http://lab.example.com/token"}, nil, Consent{}); !errors.Is(err, oauth.ErrInsecureHTTP) {
		t.Fatalf("back to plain http without consent: %v", err)
	}
	if _, err := Apply(&a, Changes{oauth.FieldTokenURL: "http://lab.example.com/token"}, nil, Consent{PlainHTTP: true}); err != nil || !a.AllowInsecureHTTP {
		t.Fatalf("back to plain http with consent: %v, opt-in %v", err, a.AllowInsecureHTTP)
	}
	// Loopback is never plain http to another machine.
	lo := accounts.Account{Kind: accounts.KindCustom, Name: "lo", ClientID: "x", RefreshToken: "r",
		Endpoints: accounts.Endpoints{TokenURL: "https://x.example.com/t"}}
	if _, err := Apply(&lo, Changes{oauth.FieldTokenURL: "http://127.0.0.1:9/t"}, nil, Consent{}); err != nil || lo.AllowInsecureHTTP {
		t.Fatalf("loopback: %v, opt-in %v", err, lo.AllowInsecureHTTP)
	}
}
