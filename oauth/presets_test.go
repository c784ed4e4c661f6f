package oauth

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/accounts"
)

func TestPresetFillsTeslaDefaults(t *testing.T) {
	fleet, err := Preset(accounts.KindFleet, "")
	if err != nil {
		t.Fatal(err)
	}
	if fleet.Region != "na" || fleet.Audience != "https://fleet-api.prd.na.vn.cloud.tesla.com" ||
		fleet.Endpoints.TokenURL != "https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token" ||
		fleet.Endpoints.AuthURL != "https://auth.tesla.com/oauth2/v3/authorize" ||
		fleet.Endpoints.RedirectURI != "" || fleet.ClientID != "" || len(fleet.RequestedScopes) == 0 {
		t.Errorf("fleet na: %+v", fleet)
	}
	eu, _ := Preset(accounts.KindFleet, "EU")
	if eu.Region != "eu" || eu.Audience != "https://fleet-api.prd.eu.vn.cloud.tesla.com" {
		t.Errorf("fleet eu: %+v", eu)
	}
	cn, _ := Preset(accounts.KindFleet, "cn")
	if cn.Audience != "https://fleet-api.prd.cn.vn.cloud.tesla.cn" || !strings.HasPrefix(cn.Endpoints.TokenURL, "https://auth.tesla.cn/") ||
		!strings.HasPrefix(cn.Endpoints.AuthURL, "https://auth.tesla.cn/") {
		t.Errorf("fleet cn: %+v", cn)
	}

	owner, _ := Preset(accounts.KindOwner, "na")
	if owner.ClientID != "ownerapi" || owner.Endpoints.RedirectURI != "tesla://auth/callback" ||
		owner.Endpoints.TokenURL != "https://auth.tesla.com/oauth2/v3/token" ||
		strings.Join(owner.RequestedScopes, " ") != "openid email offline_access" {
		t.Errorf("owner: %+v", owner)
	}
	partner, _ := Preset(accounts.KindPartner, "eu")
	if partner.Audience != eu.Audience || partner.Endpoints.TokenURL == "" || partner.Endpoints.AuthURL != "" {
		t.Errorf("partner: %+v", partner)
	}
	legacy, _ := Preset(accounts.KindLegacy, "na")
	if legacy.ClientID != LegacyClientID || legacy.ClientSecret != LegacyClientSecret ||
		legacy.Endpoints.BaseURL != "https://owner-api.teslamotors.com" {
		t.Errorf("legacy: %+v", legacy)
	}
	custom, _ := Preset(accounts.KindCustom, "na")
	if (custom.Endpoints != accounts.Endpoints{}) || custom.ClientID != "" || custom.Region != "" || custom.Kind != accounts.KindCustom {
		t.Errorf("custom: %+v", custom)
	}
	// Presets do not share slices: changing one must not change the next.
	fleet.RequestedScopes[0] = "changed"
	again, _ := Preset(accounts.KindFleet, "na")
	if again.RequestedScopes[0] != "openid" {
		t.Error("presets share their scope slice")
	}
}

func TestPresetRejectsUnknown(t *testing.T) {
	if _, err := Preset("bogus", "na"); err == nil || !strings.Contains(err.Error(), "fleet, owner") {
		t.Errorf("kind: %v", err)
	}
	if _, err := Preset(accounts.KindFleet, "mars"); err == nil || !strings.Contains(err.Error(), "na, eu or cn") {
		t.Errorf("region: %v", err)
	}
}

func TestEveryPresetValidatesOnceTheUserPartsAreGiven(t *testing.T) {
	for _, k := range accounts.Kinds {
		if k == accounts.KindCustom {
			continue
		}
		for _, r := range Regions {
			a, err := Preset(k, r)
			if err != nil {
				t.Fatal(err)
			}
			if a.ClientID == "" {
				a.ClientID = "my-app"
			}
			if k == accounts.KindPartner {
				a.ClientSecret = "s"
			}
			if k == accounts.KindFleet {
				a.Endpoints.RedirectURI = "http://localhost:8976/callback"
			}
			if err := Validate(PurposeLogin, a); err != nil {
				t.Errorf("%s/%s: %v", k, r, err)
			}
		}
	}
}

func TestValidateNamesTheFieldAtFault(t *testing.T) {
	fleet, _ := Preset(accounts.KindFleet, "na")
	fleet.ClientID = "app"
	fleet.Endpoints.RedirectURI = "http://localhost:8976/callback"
	partner, _ := Preset(accounts.KindPartner, "na")
	partner.ClientID = "p"
	legacy, _ := Preset(accounts.KindLegacy, "na")
	custom := accounts.Account{Kind: accounts.KindCustom, ClientID: "c"}

	with := func(a accounts.Account, f func(*accounts.Account)) accounts.Account { f(&a); return a }
	cases := []struct {
		name  string
		a     accounts.Account
		want  string
		field Field // FieldError.Field
	}{
		{"unknown kind", accounts.Account{Kind: "x", ClientID: "c"}, "unknown account kind", "kind"},
		{"fleet without client id", with(fleet, func(a *accounts.Account) { a.ClientID = "" }), "needs the client id", "client_id"},
		{"fleet without redirect URI", with(fleet, func(a *accounts.Account) { a.Endpoints.RedirectURI = "" }), "needs the redirect URI registered", "redirect_uri"},
		{"fleet without audience", with(fleet, func(a *accounts.Account) { a.Audience = "" }), "needs the audience", "audience"},
		{"fleet bad redirect", with(fleet, func(a *accounts.Account) { a.Endpoints.RedirectURI = "http://127.0.0.1:99999/cb" }), "invalid port", "redirect_uri"},
		{"partner without secret", partner, "needs the client secret", "client_secret"},
		{"legacy without base", with(legacy, func(a *accounts.Account) { a.Endpoints.BaseURL = "" }), "needs the owner-api base URL", "base_url"},
		{"custom code without auth url", with(custom, func(a *accounts.Account) { a.Endpoints.TokenURL = "http://127.0.0.1/t" }), "needs the authorization URL", "auth_url"},
		{"custom code without token url", with(custom, func(a *accounts.Account) { a.Endpoints.AuthURL = "http://127.0.0.1/a" }), "needs the token URL", "token_url"},
		{"custom password without token url", with(custom, func(a *accounts.Account) { a.Grant = accounts.GrantPassword }), "needs the token URL", "token_url"},
		{"custom cc without secret", with(custom, func(a *accounts.Account) {
			a.Grant, a.Endpoints.TokenURL = accounts.GrantClientCredentials, "https://x/t"
		}), "needs the client secret", "client_secret"},
		{"custom unknown grant", with(custom, func(a *accounts.Account) { a.Grant = "implicit" }), "unknown grant", "grant"},
		{"not http", with(custom, func(a *accounts.Account) {
			a.Endpoints.AuthURL, a.Endpoints.TokenURL = "ftp://x/a", "https://x/t"
		}), "not an http or https URL", "auth_url"},
		{"credentials in URL", with(custom, func(a *accounts.Account) {
			a.Endpoints.AuthURL, a.Endpoints.TokenURL = "https://x/a", "https://me:hunter2@x/t"
		}), "user name or password", "token_url"},
		{"bad revoke url", with(fleet, func(a *accounts.Account) { a.Endpoints.RevokeURL = "revoke" }), "revocation URL", "revoke_url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(PurposeLogin, tc.a)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want one naming %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatal("the error repeats a password")
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || strings.Contains(fe.Problem, "--") {
				t.Fatalf("got %#v; want a FieldError for %s whose problem names no flag", err, tc.field)
			}
		})
	}
	ok := with(custom, func(a *accounts.Account) {
		a.Grant, a.Endpoints.TokenURL = accounts.GrantPassword, "http://127.0.0.1:8080/token"
	})
	if err := Validate(PurposeLogin, ok); err != nil {
		t.Errorf("valid custom password account: %v", err)
	}
}

// An import needs only what a refresh needs: a custom account's import
// takes no authorization URL (the command line used to demand one), while
// a login of the same account does.
func TestValidateImportNeedsOnlyWhatARefreshNeeds(t *testing.T) {
	custom := accounts.Account{Kind: accounts.KindCustom, ClientID: "c",
		Endpoints: accounts.Endpoints{TokenURL: "http://127.0.0.1:8080/token"}}
	if err := Validate(PurposeImport, custom); err != nil {
		t.Errorf("custom import without an authorization URL: %v", err)
	}
	var fe *FieldError
	if err := Validate(PurposeLogin, custom); !errors.As(err, &fe) || fe.Field != FieldAuthURL {
		t.Errorf("custom code login without an authorization URL: got %v, want a FieldError for auth_url", err)
	}
	fleet, _ := Preset(accounts.KindFleet, "eu")
	fleet.ClientID, fleet.Endpoints.AuthURL, fleet.Audience = "app", "", ""
	if err := Validate(PurposeImport, fleet); err != nil {
		t.Errorf("fleet import without authorization URL and audience: %v", err)
	}
	partner, _ := Preset(accounts.KindPartner, "na")
	partner.ClientID, partner.ClientSecret = "p", "s"
	if err := Validate(PurposeImport, partner); !errors.As(err, &fe) || fe.Field != FieldKind {
		t.Errorf("partner import: got %v, want a FieldError for kind", err)
	}
	for _, k := range accounts.Kinds {
		for _, p := range []Purpose{PurposeLogin, PurposeImport} {
			for _, r := range Requirements(p, k, "") {
				if r.Need == NeedRequired && r.Hidden {
					t.Errorf("%s: the required %s is hidden from the form", k, r.Field)
				}
			}
		}
	}
}

func TestConsentURL(t *testing.T) {
	fleet, _ := Preset(accounts.KindFleet, "na")
	fleet.ClientID = "app id"
	if got := consentURL(fleet); got != "https://auth.tesla.com/user/revoke/consent?revoke_client_id=app+id&back_url=https%3A%2F%2Fwww.tesla.com%2F" {
		t.Errorf("fleet: %q", got)
	}
	owner, _ := Preset(accounts.KindOwner, "cn")
	if got := consentURL(owner); !strings.HasPrefix(got, "https://auth.tesla.cn/user/revoke/consent?revoke_client_id=ownerapi&") {
		t.Errorf("owner cn: %q", got)
	}
	for _, k := range []accounts.Kind{accounts.KindPartner, accounts.KindLegacy, accounts.KindCustom} {
		a, _ := Preset(k, "na")
		if got := consentURL(a); got != "" {
			t.Errorf("%s: %q", k, got)
		}
	}
}

func TestRevokeEndpoint(t *testing.T) {
	legacy, _ := Preset(accounts.KindLegacy, "na")
	legacy.Endpoints.BaseURL += "/"
	fleet, _ := Preset(accounts.KindFleet, "na")
	custom := accounts.Account{Kind: accounts.KindCustom, Endpoints: accounts.Endpoints{RevokeURL: "https://id.example/revoke"}}
	for _, tc := range []struct {
		a    accounts.Account
		want string
	}{
		{legacy, "https://owner-api.teslamotors.com/oauth/revoke"},
		{fleet, ""},
		{custom, "https://id.example/revoke"},
	} {
		if got := RevokeEndpoint(tc.a); got != tc.want {
			t.Errorf("%s: RevokeEndpoint = %q, want %q", tc.a.Kind, got, tc.want)
		}
	}
}

// The fleet default asks for the energy scopes (as Home Assistant does),
// and the scopes nobody has seen granted to third-party tokens are marked.
func TestFleetScopesAndUnconfirmedOnes(t *testing.T) {
	for _, want := range []string{"energy_device_data", "energy_cmds", "openid", "offline_access"} {
		if !slices.Contains(FleetScopes, want) {
			t.Errorf("the fleet default lacks %s", want)
		}
	}
	for _, s := range []string{"vehicle_specs", "vehicle_pricing_info", "enterprise_management"} {
		if note, ok := ScopeUnconfirmed(s); !ok || !strings.Contains(note, "unconfirmed for third-party tokens") {
			t.Errorf("%s: %q %v", s, note, ok)
		}
		if slices.Contains(FleetScopes, s) {
			t.Errorf("the fleet default asks for the unconfirmed %s", s)
		}
	}
	for _, s := range FleetScopes {
		if _, ok := ScopeUnconfirmed(s); ok {
			t.Errorf("%s is marked unconfirmed", s)
		}
	}
}
