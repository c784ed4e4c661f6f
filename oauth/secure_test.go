package oauth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// offLoopback is a plain http address off this machine; .invalid never
// resolves, so a request that went out would fail to resolve instead of
// being refused.
const offLoopback = "http://keyfob-test.invalid"

// wantInsecure fails unless err refuses field's plain http URL.
func wantInsecure(t *testing.T, err error, field oauth.Field) {
	t.Helper()
	var fe *oauth.FieldError
	if !errors.Is(err, oauth.ErrInsecureHTTP) || !errors.As(err, &fe) || fe.Field != field ||
		!strings.Contains(err.Error(), "use its https address") {
		t.Fatalf("want %s refused as plain http, got %v", field, err)
	}
}

// Every endpoint must be https, except on loopback, unless the user opts in.
func TestValidateRefusesPlainHTTPOffLoopback(t *testing.T) {
	base, _ := oauth.Preset(accounts.KindCustom, "")
	base.ClientID = "app"
	base.Endpoints = accounts.Endpoints{AuthURL: "https://auth.example/authorize", TokenURL: "https://auth.example/token"}
	for _, tc := range []struct {
		field oauth.Field
		set   func(a *accounts.Account, v string)
	}{
		{oauth.FieldAuthURL, func(a *accounts.Account, v string) { a.Endpoints.AuthURL = v }},
		{oauth.FieldTokenURL, func(a *accounts.Account, v string) { a.Endpoints.TokenURL = v }},
		{oauth.FieldRevokeURL, func(a *accounts.Account, v string) { a.Endpoints.RevokeURL = v }},
		{oauth.FieldUserInfoURL, func(a *accounts.Account, v string) { a.Endpoints.UserInfoURL = v }},
	} {
		a := base
		tc.set(&a, offLoopback+"/x")
		wantInsecure(t, oauth.Validate(oauth.PurposeLogin, a), tc.field)
		if err := oauth.ValidateWith(oauth.PurposeLogin, a, oauth.LoginOptions{AllowInsecureHTTP: true}); err != nil {
			t.Errorf("%s with the opt-in: %v", tc.field, err)
		}
		for _, host := range []string{"127.0.0.1:8080", "127.3.2.1", "[::1]:9", "localhost:1", "LOCALHOST"} {
			tc.set(&a, "http://"+host+"/x")
			if err := oauth.Validate(oauth.PurposeLogin, a); err != nil {
				t.Errorf("%s on loopback %s: %v", tc.field, host, err)
			}
		}
	}
	legacy, _ := oauth.Preset(accounts.KindLegacy, "na")
	legacy.Endpoints.BaseURL = offLoopback
	wantInsecure(t, oauth.Validate(oauth.PurposeImport, legacy), oauth.FieldBaseURL)
}

// A stored account edited by hand to a plain http endpoint sends nothing:
// each operation that carries a secret refuses before the request, unless
// the account carries the user's opt-in.
func TestStoredAccountSendsNoSecretInClearText(t *testing.T) {
	ctx := context.Background()
	e := &oauth.Engine{}
	fleet := accounts.Account{Kind: accounts.KindFleet, ClientID: "app", RefreshToken: "rt", AccessToken: "at",
		Endpoints: accounts.Endpoints{TokenURL: offLoopback + "/token", RevokeURL: offLoopback + "/revoke"}}
	_, err := e.Refresh(ctx, fleet)
	wantInsecure(t, err, oauth.FieldTokenURL)
	rev, err := e.Revoke(ctx, fleet)
	wantInsecure(t, err, oauth.FieldRevokeURL)
	if rev.Outcome != accounts.RevokeFailed {
		t.Errorf("revoke outcome %q", rev.Outcome)
	}
	partner := accounts.Account{Kind: accounts.KindPartner, ClientID: "p", ClientSecret: "s",
		Endpoints: accounts.Endpoints{TokenURL: offLoopback + "/token"}}
	_, err = e.Refresh(ctx, partner)
	wantInsecure(t, err, oauth.FieldTokenURL)
	legacy := accounts.Account{Kind: accounts.KindLegacy, ClientID: "c", ClientSecret: "s", RefreshToken: "rt", AccessToken: "at",
		Endpoints: accounts.Endpoints{BaseURL: offLoopback}}
	_, err = e.Refresh(ctx, legacy)
	wantInsecure(t, err, oauth.FieldBaseURL)
	_, err = e.Revoke(ctx, legacy)
	wantInsecure(t, err, oauth.FieldBaseURL)

	// With the opt-in the request goes out, and fails to resolve.
	fleet.AllowInsecureHTTP = true
	_, err = e.Refresh(ctx, fleet)
	var se *oauth.ServerError
	if errors.Is(err, oauth.ErrInsecureHTTP) || !errors.As(err, &se) || se.Kind != oauth.KindNetwork {
		t.Fatalf("allowed: %v", err)
	}
	_, err = e.Refresh(ctx, partner)
	wantInsecure(t, err, oauth.FieldTokenURL)
}

// A loopback endpoint that redirects a GET to plain http elsewhere is not
// followed: the recorder refuses the request unsent.
func TestRedirectToPlainHTTPIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, offLoopback+"/.well-known/openid-configuration", http.StatusFound)
	}))
	defer srv.Close()
	_, err := (&oauth.Engine{}).Discover(context.Background(), srv.URL)
	wantInsecure(t, err, oauth.FieldEndpoint)
}

// servesDocument answers every discovery request with doc.
func servesDocument(t *testing.T, doc func(base string) string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, doc(srv.URL))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Discovery uses a document only when it names the issuer asked for; a
// bare host may lead to an issuer under a path of the same origin, whose
// own document must name it.
func TestDiscoverChecksTheIssuer(t *testing.T) {
	ctx := context.Background()
	e := &oauth.Engine{}
	sbx := sandbox.NewTest(t, sandbox.Options{})
	for _, ok := range []string{sbx.URL(), sbx.URL() + "/", sbx.Issuer(), sbx.Issuer() + "/",
		sbx.Issuer() + "/.well-known/openid-configuration"} {
		if _, err := e.Discover(ctx, ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	// The third-party document of the sandbox names the main issuer.
	_, err := e.Discover(ctx, sbx.Issuer()+"/thirdparty")
	wantMismatch(t, err, sbx.Issuer()+"/thirdparty", sbx.Issuer())

	doc := func(issuer string) func(string) string {
		return func(base string) string {
			return `{"issuer":"` + strings.ReplaceAll(issuer, "BASE", base) + `","token_endpoint":"` + base + `/token"}`
		}
	}
	elsewhere := servesDocument(t, doc("https://auth.evil.example"))
	_, err = e.Discover(ctx, elsewhere.URL)
	wantMismatch(t, err, elsewhere.URL, "https://auth.evil.example")

	// Same origin, but the issuer's own document names yet another.
	liar := servesDocument(t, doc("BASE/oauth2/v3"))
	_, err = e.Discover(ctx, liar.URL+"/oauth2/v3/x")
	wantMismatch(t, err, liar.URL+"/oauth2/v3/x", liar.URL+"/oauth2/v3")
	if _, err := e.Discover(ctx, liar.URL); err != nil {
		t.Errorf("a bare host whose issuer names itself: %v", err)
	}
	nameless := servesDocument(t, doc(""))
	if _, err := e.Discover(ctx, nameless.URL); err == nil || !strings.Contains(err.Error(), "names no issuer") {
		t.Errorf("no issuer: %v", err)
	}
	_, err = e.Discover(ctx, offLoopback+"/oauth2/v3")
	wantInsecure(t, err, oauth.FieldIssuer)
}

func wantMismatch(t *testing.T, err error, asked, named string) {
	t.Helper()
	var fe *oauth.FieldError
	if !errors.As(err, &fe) || fe.Field != oauth.FieldIssuer || !strings.Contains(err.Error(), asked) || !strings.Contains(err.Error(), named) {
		t.Fatalf("want the issuer %s refused for naming %s, got %v", asked, named, err)
	}
}

// Logins.Prepare takes the opt-in for an http issuer and endpoints.
func TestPrepareTakesTheInsecureOptIn(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	l, _ := newLogins(t, srv)
	r := oauth.Request{Kind: accounts.KindCustom, Grant: accounts.GrantClientCredentials, Inputs: oauth.Inputs{
		oauth.FieldTokenURL: offLoopback + "/token", oauth.FieldClientID: "c", oauth.FieldClientSecret: "s"}}
	_, err := l.Prepare(context.Background(), r)
	wantInsecure(t, err, oauth.FieldTokenURL)
	r.Options.AllowInsecureHTTP = true
	p, err := l.Prepare(context.Background(), r)
	if err != nil || !p.Options.AllowInsecureHTTP {
		t.Fatalf("with the opt-in: %+v %v", p.Options, err)
	}
}

// An import with the opt-in refreshes through the plain http endpoint
// (here it fails to resolve); the engine alone would refuse it.
func TestImportTakesTheInsecureOptIn(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	l, m := newLogins(t, srv)
	r := oauth.Request{Purpose: oauth.PurposeImport, Kind: accounts.KindCustom, Options: oauth.LoginOptions{AllowInsecureHTTP: true},
		Inputs: oauth.Inputs{oauth.FieldTokenURL: offLoopback + "/token", oauth.FieldClientID: "c", oauth.FieldRefreshToken: "rt"}}
	p, err := l.Prepare(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Import(context.Background(), p)
	var se *oauth.ServerError
	if errors.Is(err, oauth.ErrInsecureHTTP) || !errors.As(err, &se) || se.Kind != oauth.KindNetwork {
		t.Fatalf("import with the opt-in: %v", err)
	}
	if _, err := m.Import(context.Background(), p.Account); !errors.Is(err, oauth.ErrInsecureHTTP) {
		t.Fatalf("the manager's own engine: %v", err)
	}
}
