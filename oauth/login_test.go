package oauth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// newLogins returns the login path over a fresh store, against srv.
func newLogins(t *testing.T, srv *sandbox.Server) (*oauth.Logins, *accounts.Manager) {
	t.Helper()
	e := &oauth.Engine{}
	m := openManager(t, e)
	return &oauth.Logins{Engine: e, Manager: m}, m
}

// openManager is the Manager of a fresh store in a temporary directory.
func openManager(t *testing.T, auth accounts.Authority) *accounts.Manager {
	t.Helper()
	m, err := accounts.Open("", accounts.Options{Dir: t.TempDir(), Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// Every grant goes through the same Prepare, Begin and Finish (or
// Complete), and ends with the account in the store.
func TestLoginsEveryGrantEndsInTheStore(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	u := srv.User()
	ctx := context.Background()
	l, m := newLogins(t, srv)
	cases := []struct {
		name string
		r    oauth.Request
	}{
		{"custom password", oauth.Request{Kind: accounts.KindCustom, Grant: accounts.GrantPassword, Inputs: oauth.Inputs{
			oauth.FieldName: "pw", oauth.FieldIssuer: srv.URL(), oauth.FieldClientID: "any-app",
			oauth.FieldEmail: u.Email, oauth.FieldPassword: u.Password}}},
		{"custom client credentials", oauth.Request{Kind: accounts.KindCustom, Grant: accounts.GrantClientCredentials, Inputs: oauth.Inputs{
			oauth.FieldName: "cc", oauth.FieldIssuer: srv.URL(), oauth.FieldClientID: sandbox.PartnerClientID,
			oauth.FieldClientSecret: sandbox.PartnerSecret}}},
		{"custom code through the loopback listener", oauth.Request{Kind: accounts.KindCustom, Inputs: oauth.Inputs{
			oauth.FieldName: "code", oauth.FieldIssuer: srv.URL(), oauth.FieldClientID: sandbox.FleetClientID}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := l.Prepare(ctx, tc.r)
			if err != nil {
				t.Fatal(err)
			}
			at, err := l.Begin(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			defer at.Close()
			if f := at.Flow(); f != nil {
				go func() { _, _ = srv.SignIn(ctx, f.AuthURL()) }()
			}
			saved, err := at.Finish(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Find(ctx, tc.r.Inputs[oauth.FieldName])
			if err != nil || got.ID != saved.Account.ID || got.AccessToken == "" {
				t.Fatalf("stored %+v (%v), saved %+v", got, err, saved.Account)
			}
		})
	}
}

// A taken name fails in Begin, before the server sees anything.
func TestLoginsBeginRefusesATakenNameBeforeTheServer(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	ctx := context.Background()
	l, m := newLogins(t, srv)
	if _, err := m.Add(ctx, accounts.Account{Name: "home", Kind: accounts.KindOwner}); err != nil {
		t.Fatal(err)
	}
	p, err := l.Prepare(ctx, oauth.Request{Kind: accounts.KindCustom, Grant: accounts.GrantClientCredentials, Inputs: oauth.Inputs{
		oauth.FieldName: "home", oauth.FieldIssuer: srv.URL(), oauth.FieldClientID: sandbox.PartnerClientID,
		oauth.FieldClientSecret: sandbox.PartnerSecret}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Begin(ctx, p); !errors.Is(err, accounts.ErrNameTaken) {
		t.Fatalf("Begin: %v, want ErrNameTaken", err)
	}
	if st := srv.Stats(); st.ClientCredentials != 0 {
		t.Fatalf("the server was asked: %+v", st)
	}
}

// Prepare names the field at fault, and an import needs no more than a
// refresh does.
func TestLoginsPrepareValidatesForThePurpose(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	ctx := context.Background()
	l, _ := newLogins(t, srv)
	_, err := l.Prepare(ctx, oauth.Request{Kind: accounts.KindFleet, Region: "eu"})
	var fe *oauth.FieldError
	if !errors.As(err, &fe) || fe.Field != oauth.FieldClientID {
		t.Fatalf("fleet without client id: %v", err)
	}
	if _, err := l.Prepare(ctx, oauth.Request{Kind: accounts.KindFleet, Region: "mars"}); !errors.As(err, &fe) || fe.Field != oauth.FieldRegion {
		t.Fatalf("unknown region: %v", err)
	}
	p, err := l.Prepare(ctx, oauth.Request{Purpose: oauth.PurposeImport, Kind: accounts.KindCustom, Inputs: oauth.Inputs{
		oauth.FieldTokenURL: srv.URL() + "/oauth2/v3/token", oauth.FieldClientID: "c", oauth.FieldRefreshToken: "a\nb"}})
	if err != nil {
		t.Fatalf("custom import without an authorization URL: %v", err)
	}
	if p.Account.RefreshToken != "ab" {
		t.Fatalf("refresh token %q: a token pasted over lines is one token", p.Account.RefreshToken)
	}
	if _, err := l.Import(ctx, oauth.Prepared{Account: accounts.Account{Kind: accounts.KindCustom}}); !errors.As(err, &fe) || fe.Field != oauth.FieldRefreshToken {
		t.Fatalf("import without a refresh token: %v", err)
	}
}

// A fleet login needs the redirect URI registered for its app, used
// exactly (the sandbox, like Tesla, refuses any other); the login path
// remembers it per client id once Tesla accepted it, and fills it in next
// time.
func TestFleetRedirectIsRequiredAndRemembered(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{StrictFleet: true})
	l, _ := sandboxLogins(t, srv)
	bare := l.Presets
	l.Presets = func(k accounts.Kind, region string) (accounts.Account, error) {
		a, err := bare(k, region)
		a.Endpoints.RedirectURI = ""
		return a, err
	}
	remembered := map[string]string{}
	l.RedirectFor = func(id string) string { return remembered[id] }
	l.Remember = func(id, uri string) { remembered[id] = uri }
	r := oauth.Request{Kind: accounts.KindFleet, Inputs: oauth.Inputs{oauth.FieldClientID: sandbox.FleetClientID}}

	_, err := l.Prepare(context.Background(), r)
	var fe *oauth.FieldError
	if !errors.As(err, &fe) || fe.Field != oauth.FieldRedirectURI {
		t.Fatalf("no redirect URI: %v", err)
	}
	uri := freeLocalhostURI(t)
	srv.RegisterRedirectURI(sandbox.FleetClientID, uri)
	r.Inputs[oauth.FieldRedirectURI] = uri
	if _, err := signIn(t, srv, l, r); err != nil {
		t.Fatal(err)
	}
	if remembered[sandbox.FleetClientID] != uri {
		t.Fatalf("remembered %v", remembered)
	}
	delete(r.Inputs, oauth.FieldRedirectURI)
	p, err := l.Prepare(context.Background(), r)
	if err != nil || p.Account.Endpoints.RedirectURI != uri {
		t.Fatalf("the remembered URI was not used: %+v %v", p.Account.Endpoints, err)
	}
	if _, err := signIn(t, srv, l, r); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.CodeExchanges != 2 {
		t.Errorf("stats %+v", st)
	}
}
