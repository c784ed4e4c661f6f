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
	notes, err := Apply(&a, Changes{oauth.FieldRegion: " EU "}, nil)
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
	if _, err := Apply(&a, Changes{oauth.FieldRegion: "cn"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := changed(Diff(before, a)); got != "region audience auth_url token_url userinfo_url" ||
		!strings.HasPrefix(a.Endpoints.TokenURL, "https://auth.tesla.cn/") {
		t.Fatalf("cn: %s %+v", got, a.Endpoints)
	}

	// Given explicitly, a field does not move.
	a = before
	if _, err := Apply(&a, Changes{oauth.FieldRegion: "eu", oauth.FieldAudience: "https://proxy.example.com"}, nil); err != nil {
		t.Fatal(err)
	}
	if a.Audience != "https://proxy.example.com" || a.Region != "eu" {
		t.Fatalf("explicit audience: %+v", a)
	}

	// A field the user had changed stays, and a note says so.
	a = before
	a.Endpoints.TokenURL = "https://tokens.example.com/token"
	notes, err = Apply(&a, Changes{oauth.FieldRegion: "cn"}, nil)
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
	if _, err := Apply(&a, Changes{oauth.FieldRegion: "eu"}, presets); err != nil || a.Audience != "http://127.0.0.1:9/fleet-api/eu" {
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
		{"base URL of fleet", accounts.KindFleet, Changes{oauth.FieldBaseURL: "https://x.example.com"}, oauth.FieldBaseURL, "has no base URL"},
		{"partner secret", accounts.KindPartner, Changes{oauth.FieldClientSecret: "x"}, oauth.FieldClientSecret, "cannot change"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := teslaAccount(t, tc.kind, "na")
			_, err := Apply(&a, tc.ch, nil)
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
