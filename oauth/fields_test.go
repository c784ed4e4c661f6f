package oauth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// Value reads back what Set stores, for every field an account keeps;
// the ones it does not keep read as empty.
func TestValueReadsWhatSetStores(t *testing.T) {
	var a accounts.Account
	kept := []oauth.Field{oauth.FieldName, oauth.FieldEmail, oauth.FieldClientID, oauth.FieldClientSecret,
		oauth.FieldRegion, oauth.FieldAudience, oauth.FieldRedirectURI, oauth.FieldAuthURL, oauth.FieldTokenURL,
		oauth.FieldRevokeURL, oauth.FieldUserInfoURL, oauth.FieldBaseURL, oauth.FieldRefreshToken}
	for _, f := range kept {
		oauth.Set(&a, f, "v-"+string(f))
	}
	for _, f := range kept {
		if got := oauth.Value(a, f); got != "v-"+string(f) {
			t.Errorf("%s: %q", f, got)
		}
	}
	oauth.Set(&a, oauth.FieldScopes, "openid, offline_access  email")
	if got := oauth.Value(a, oauth.FieldScopes); got != "openid offline_access email" {
		t.Errorf("scopes: %q", got)
	}
	oauth.Set(&a, oauth.FieldRefreshToken, "abc\ndef ")
	if a.RefreshToken != "abcdef" {
		t.Errorf("a refresh token over two lines: %q", a.RefreshToken)
	}
	for _, f := range []oauth.Field{oauth.FieldPassword, oauth.FieldIssuer, oauth.FieldGrant} {
		oauth.Set(&a, f, "x")
		if oauth.Value(a, f) != "" {
			t.Errorf("%s is not kept on an account", f)
		}
	}
	if oauth.FieldTokenURL.Label() != "token URL" || oauth.FieldTokenURL.Noun() != "the token URL" ||
		oauth.FieldClientID.Noun() != "the client id" {
		t.Errorf("labels: %q %q", oauth.FieldTokenURL.Label(), oauth.FieldTokenURL.Noun())
	}
}

// An import with the opt-in keeps it with the account when one of its
// endpoints needs it, and not otherwise.
func TestTheInsecureOptInIsKeptWhereNeeded(t *testing.T) {
	a := accounts.Account{Endpoints: accounts.Endpoints{TokenURL: "http://127.0.0.1:1/token", RevokeURL: "https://x.example/r"}}
	if oauth.NeedsInsecureHTTP(a) {
		t.Error("loopback and https need no opt-in")
	}
	a.Endpoints.UserInfoURL = offLoopback + "/userinfo"
	if !oauth.NeedsInsecureHTTP(a) {
		t.Error("plain http off loopback needs the opt-in")
	}

	srv := sandbox.NewTest(t, sandbox.Options{})
	l, m := newLogins(t, srv)
	ts := srv.Mint(sandbox.MintRequest{ClientID: "c", Scopes: []string{"openid", "offline_access"}})
	r := oauth.Request{Purpose: oauth.PurposeImport, Kind: accounts.KindCustom, Options: oauth.LoginOptions{AllowInsecureHTTP: true},
		Inputs: oauth.Inputs{oauth.FieldTokenURL: srv.Issuer() + "/token", oauth.FieldClientID: "c", oauth.FieldRefreshToken: ts.RefreshToken,
			oauth.FieldName: "https"}}
	p, err := l.Prepare(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := l.Import(context.Background(), p)
	if err != nil || saved.Account.AllowInsecureHTTP {
		t.Fatalf("an import on loopback kept the opt-in: %v %v", saved.Account.AllowInsecureHTTP, err)
	}
	r.Inputs = oauth.Inputs{oauth.FieldTokenURL: offLoopback + "/token", oauth.FieldClientID: "c", oauth.FieldRefreshToken: "rt",
		oauth.FieldName: "plain"}
	if p, err = l.Prepare(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	// The request goes out (and fails to resolve), so nothing is saved;
	// the account the manager was given carries the opt-in.
	var se *oauth.ServerError
	if _, err := l.Import(context.Background(), p); errors.Is(err, oauth.ErrInsecureHTTP) || !errors.As(err, &se) {
		t.Fatalf("import with the opt-in: %v", err)
	}
	if list, _ := m.List(context.Background()); len(list) != 1 {
		t.Fatalf("%d accounts stored", len(list))
	}
}

// A refresh whose token corrects the region (and the audience) of the
// same hosts is stored by the manager, and the refresh's result says so.
func TestTheManagerStoresTheCorrectedRegion(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{Users: []sandbox.User{europeUser}})
	e := &oauth.Engine{}
	a := minted(t, e, srv)
	ts := srv.Mint(sandbox.MintRequest{Email: europeUser.Email, Scopes: []string{"openid", "offline_access"}})
	a.AccessToken, a.RefreshToken, a.Name = ts.AccessToken, ts.RefreshToken, "car"
	a.Audience = srv.FleetAPIBase("na")
	ctx := context.Background()
	m := openManager(t, e)
	put, err := m.Put(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Refresh(ctx, put[0], accounts.Explicit)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := m.Find(ctx, put[0].ID)
	c := oauth.RegionChangeOf(r.Before, r.Account)
	if got.Region != "eu" || got.Audience != srv.FleetAPIBase("eu") || c.From != "na" || c.To != "eu" ||
		c.ToAudience != srv.FleetAPIBase("eu") || c.Refused != nil {
		t.Fatalf("stored region %q audience %q, change %+v", got.Region, got.Audience, c)
	}
}
