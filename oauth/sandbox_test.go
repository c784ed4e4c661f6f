package oauth_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// These tests run every flow end to end against the sandbox on loopback.

// follow plays a browser: it signs in at the authorize URL (typing in the
// password where the sandbox asks for it) and follows the redirect to the
// loopback listener. It runs in the background, as a real browser does,
// so that Wait can answer the callback.
func follow(t *testing.T) func(string) error {
	return func(u string) error {
		go func() {
			loc, err := sandbox.Approve(context.Background(), u)
			if err != nil {
				t.Errorf("browser: %v", err)
				return
			}
			resp, err := http.Get(loc)
			if err != nil {
				t.Errorf("browser: %v", err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
		return nil
	}
}

// landing signs in without following the redirect and returns where the
// browser would land, as a user copies it from the address bar.
func landing(t *testing.T, authURL string) string {
	t.Helper()
	loc, err := sandbox.Approve(context.Background(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// preset returns a Tesla preset pointed at the sandbox through discovery,
// as keyfob demo's are: Tesla's audience, the sandbox's API base.
func preset(t *testing.T, e *oauth.Engine, srv *sandbox.Server, k accounts.Kind, region string) accounts.Account {
	t.Helper()
	a, err := oauth.Preset(k, region)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := e.Discover(context.Background(), srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	ep.RedirectURI = a.Endpoints.RedirectURI
	ep.BaseURL = srv.URL()
	a.Endpoints = ep
	switch k {
	case accounts.KindFleet, accounts.KindPartner:
		a.Endpoints.APIBaseURL = srv.FleetAPIBase(a.Region)
	case accounts.KindOwner:
		a.Endpoints.APIBaseURL = srv.URL()
	}
	if k == accounts.KindFleet {
		// Tesla matches a fleet app's redirect URI exactly: register one.
		a.Endpoints.RedirectURI = freeLocalhostURI(t)
		srv.RegisterRedirectURI(sandbox.FleetClientID, a.Endpoints.RedirectURI)
	}
	return a
}

// freeLocalhostURI returns http://localhost:PORT/callback with a port
// free on both 127.0.0.1 and ::1 right now.
func freeLocalhostURI(t *testing.T) string {
	t.Helper()
	for range 20 {
		l4, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(l4.Addr().(*net.TCPAddr).Port)
		l6, err := net.Listen("tcp", "[::1]:"+port)
		l4.Close()
		if err == nil {
			l6.Close()
			return "http://localhost:" + port + "/callback"
		}
	}
	t.Fatal("no port is free on both loopback addresses")
	return ""
}

func TestDiscover(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	e := &oauth.Engine{}
	for _, issuer := range []string{srv.URL(), srv.URL() + "/", srv.Issuer(), srv.Issuer() + "/.well-known/openid-configuration"} {
		ep, err := e.Discover(context.Background(), issuer)
		if err != nil {
			t.Fatalf("%s: %v", issuer, err)
		}
		if ep.AuthURL != srv.Issuer()+"/authorize" || ep.TokenURL != srv.Issuer()+"/token" ||
			ep.RevokeURL != srv.Issuer()+"/revoke" || ep.UserInfoURL != srv.Issuer()+"/userinfo" {
			t.Errorf("%s: %+v", issuer, ep)
		}
	}
	_, err := e.Discover(context.Background(), srv.URL()+"/nothing-here")
	var se *oauth.ServerError
	if !errors.As(err, &se) || se.StatusCode != http.StatusNotFound {
		t.Errorf("missing document: %v", err)
	}
	if _, err := e.Discover(context.Background(), "ftp://x"); err == nil {
		t.Error("a non-http issuer was accepted")
	}
}

// A fleet login through the loopback listener, at a redirect URI
// registered exactly; the user is in Europe while the login was prepared
// for North America: the token's ou_code and aud correct the region and
// the audience.
func TestFleetLoopbackLogin(t *testing.T) {
	eu := sandbox.User{Email: "eu-driver@example.com", Region: "EU"}
	srv := sandbox.NewTest(t, sandbox.Options{Users: []sandbox.User{eu}, StrictFleet: true})
	e := &oauth.Engine{OpenBrowser: follow(t)}
	a := preset(t, e, srv, accounts.KindFleet, "na")
	a.ClientID = sandbox.FleetClientID
	a.Name, a.Email = "car", eu.Email

	f, err := e.StartCodeFlow(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !f.Loopback() || f.RedirectURI() != a.Endpoints.RedirectURI {
		t.Fatalf("loopback %v redirect %q, registered %q", f.Loopback(), f.RedirectURI(), a.Endpoints.RedirectURI)
	}
	if err := f.OpenBrowser(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := f.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	user := srv.Users()[1]
	if got.Name != "car" || got.Email != user.Email || got.Subject != user.Subject || got.Region != "eu" ||
		got.Audience != sandbox.TeslaFleetAPIBase("eu") || got.Endpoints.APIBaseURL != srv.FleetAPIBase("eu") || got.State != accounts.StateActive || got.Endpoints.RedirectURI != a.Endpoints.RedirectURI {
		t.Errorf("account %+v", got)
	}
	if !srv.RefreshTokenLive(got.RefreshToken) || got.IDToken == "" {
		t.Error("no live refresh token or id token")
	}
	info, ok := srv.AccessToken(got.AccessToken)
	if !ok || !got.Expiry.Equal(got.Expiry.Truncate(0)) || got.Expiry.Before(time.Now().Add(7*time.Hour)) {
		t.Errorf("access token %v %v, expiry %v", info, ok, got.Expiry)
	}
	if !slices.Equal(got.GrantedScopes, info.Scopes) || len(got.GrantedScopes) == 0 {
		t.Errorf("granted %q, server says %q", got.GrantedScopes, info.Scopes)
	}
	if info.Audience != "https://fleet-api.prd.na.vn.cloud.tesla.com" {
		t.Errorf("the exchange did not send the audience: it asked for %q", info.Audience)
	}
	if st := srv.Stats(); st.CodeExchanges != 1 || st.Authorize != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestLoginThroughBrowserEnv opens the sign-in through $BROWSER, here a
// script in which curl submits the sandbox's sign-in form (keyfob asks
// for prompt=login) and follows the redirects to the listener.
func TestLoginThroughBrowserEnv(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	srv := sandbox.NewTest(t, sandbox.Options{})
	script := filepath.Join(t.TempDir(), "browser")
	creds := url.Values{"email": {srv.User().Email}, "password": {srv.User().Password}}.Encode()
	body := "#!/bin/sh\nexec " + curl + " --silent --location --noproxy '*' --output " + os.DevNull +
		" --data \"${1#*\\?}&" + creds + "\" \"${1%%\\?*}\"\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BROWSER", script)
	e := &oauth.Engine{}
	a := preset(t, e, srv, accounts.KindFleet, "na")
	a.ClientID = sandbox.FleetClientID
	f, err := e.StartCodeFlow(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.OpenBrowser(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := f.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != srv.User().Email || srv.Stats().CodeExchanges != 1 {
		t.Errorf("account %+v stats %+v", got, srv.Stats())
	}
}

func TestOwnerPasteLogin(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	e := &oauth.Engine{}
	a := preset(t, e, srv, accounts.KindOwner, "na")
	a.Email = srv.User().Email
	f, err := e.StartCodeFlow(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Loopback() || f.RedirectURI() != oauth.OwnerRedirectURI {
		t.Fatalf("owner flow: loopback %v redirect %q", f.Loopback(), f.RedirectURI())
	}
	loc := landing(t, f.AuthURL())
	if !strings.HasPrefix(loc, "tesla://auth/callback?") || !strings.Contains(loc, "issuer=") {
		t.Fatalf("landed on %q", loc)
	}
	// A pasted URL with a forged state is refused and its code not used.
	forged := strings.Replace(loc, "state=", "state=x", 1)
	if _, err := f.Complete(context.Background(), forged); !errors.Is(err, oauth.ErrStateMismatch) {
		t.Fatalf("forged state: %v", err)
	}
	if srv.Stats().CodeExchanges != 0 {
		t.Fatal("the code of a forged answer was exchanged")
	}
	// A URL without its code says what to paste.
	noCode := strings.Replace(loc, "code=", "nocode=", 1)
	if _, err := f.Complete(context.Background(), noCode); err == nil || !strings.Contains(err.Error(), "no code parameter") {
		t.Fatalf("missing code: %v", err)
	}
	got, err := f.Complete(context.Background(), "  "+loc+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != "ownerapi" || got.Email != srv.User().Email || got.RefreshToken == "" || got.IDToken == "" {
		t.Errorf("account %+v", got)
	}
	// Owner refresh tokens are JWTs; the refresh keeps working with ownerapi.
	g, err := e.Refresh(context.Background(), got)
	if err != nil {
		t.Fatal(err)
	}
	if g.RefreshToken == "" || g.RefreshToken == got.RefreshToken || srv.RefreshTokenLive(got.RefreshToken) {
		t.Error("the owner refresh did not rotate the refresh token")
	}
	if st := srv.Stats(); st.CodeExchanges != 1 || st.Refreshes != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestLoopbackCancelledAtTheServer(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	srv.FailNext(sandbox.FaultDenied, 1)
	e := &oauth.Engine{OpenBrowser: follow(t)}
	a := preset(t, e, srv, accounts.KindFleet, "na")
	a.ClientID = sandbox.FleetClientID
	f, err := e.StartCodeFlow(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_ = f.OpenBrowser()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = f.Wait(ctx)
	var ce *oauth.CallbackError
	if !errors.Is(err, oauth.ErrLoginCancelled) || !errors.As(err, &ce) || ce.Code != "login_cancelled" {
		t.Fatalf("got %v", err)
	}
	if srv.Stats().CodeExchanges != 0 {
		t.Error("exchanged after a cancelled sign-in")
	}
}

// A forged answer (another state) reaching the listener first gets a 400
// and does not end the login; the real answer then completes it.
func TestLoopbackStateMismatch(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	e := &oauth.Engine{}
	forgedStatus := make(chan int, 1)
	e.OpenBrowser = func(u string) error {
		go func() {
			loc, err := url.Parse(landing(t, u))
			if err != nil {
				t.Error(err)
				return
			}
			forged := *loc
			q := forged.Query()
			q.Set("state", "forged")
			forged.RawQuery = q.Encode()
			for _, target := range []string{forged.String(), loc.String()} {
				resp, err := http.Get(target)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if target != loc.String() {
					forgedStatus <- resp.StatusCode
				}
			}
		}()
		return nil
	}
	a := preset(t, e, srv, accounts.KindCustom, "")
	a.ClientID = "my-custom-app"
	f, err := e.StartCodeFlow(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_ = f.OpenBrowser()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := f.Wait(ctx); err != nil {
		t.Fatalf("the real answer after a forged one: %v", err)
	}
	if st := <-forgedStatus; st != http.StatusBadRequest {
		t.Errorf("the forged answer got %d", st)
	}
	if srv.Stats().CodeExchanges != 1 {
		t.Errorf("stats %+v", srv.Stats())
	}
}

func TestCustomAccountsEveryGrant(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{Secrets: map[string]string{"my-confidential": "conf-secret"}})
	e := &oauth.Engine{OpenBrowser: follow(t)}
	ep, err := e.Discover(context.Background(), srv.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Code: no openid scope, so no id token: the email comes from userinfo.
	code := accounts.Account{Kind: accounts.KindCustom, Grant: accounts.GrantCode, ClientID: "my-app",
		Endpoints: ep, RequestedScopes: []string{"offline_access", "vehicle_device_data"}}
	f, err := e.StartCodeFlow(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_ = f.OpenBrowser()
	got, err := f.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != srv.User().Email || got.IDToken != "" || srv.Stats().UserInfo != 1 {
		t.Errorf("userinfo email: %+v, stats %+v", got, srv.Stats())
	}
	if _, err := e.Refresh(ctx, got); err != nil {
		t.Errorf("custom refresh: %v", err)
	}

	// Password, the standard form-encoded grant.
	pw := accounts.Account{Kind: accounts.KindCustom, Grant: accounts.GrantPassword, ClientID: "my-app",
		Endpoints: ep, RequestedScopes: []string{"openid", "email", "offline_access"}}
	got, err = e.Login(ctx, pw, oauth.Credentials{Email: srv.User().Email, Password: srv.User().Password})
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken == "" || got.Email != srv.User().Email {
		t.Errorf("password: %+v", got)
	}
	if _, err := e.Login(ctx, pw, oauth.Credentials{Email: srv.User().Email, Password: "wrong-password-value"}); err == nil ||
		strings.Contains(err.Error(), "wrong-password-value") {
		t.Errorf("wrong password: %v", err)
	}

	// Client credentials with an extra confidential client.
	cc := accounts.Account{Kind: accounts.KindCustom, Grant: accounts.GrantClientCredentials, ClientID: "my-confidential",
		ClientSecret: "conf-secret", Endpoints: ep, Audience: "https://api.example", RequestedScopes: []string{"openid"}}
	got, err = e.Login(ctx, cc, oauth.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken == "" || got.RefreshToken != "" {
		t.Errorf("client credentials: %+v", got)
	}
	if st := srv.Stats(); st.CodeExchanges != 1 || st.PasswordGrants != 1 || st.ClientCredentials != 1 || st.Refreshes != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestPartnerClientCredentials(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	e := &oauth.Engine{}
	a := preset(t, e, srv, accounts.KindPartner, "eu")
	a.ClientID, a.ClientSecret = sandbox.PartnerClientID, sandbox.PartnerSecret
	got, err := e.Login(context.Background(), a, oauth.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken == "" || got.RefreshToken != "" || got.Region != "eu" || got.Expiry.IsZero() {
		t.Errorf("partner %+v", got)
	}
	claims, _ := oauth.Inspect(got.AccessToken)
	if len(claims.Audience) == 0 || claims.Audience[0] != a.Audience || !slices.Contains(got.GrantedScopes, "vehicle_cmds") {
		t.Errorf("aud %q scopes %q", claims.Audience, got.GrantedScopes)
	}
	g, err := e.Refresh(context.Background(), got)
	if err != nil || g.AccessToken == "" || g.AccessToken == got.AccessToken || g.RefreshToken != "" {
		t.Errorf("refresh: %+v %v", g, err)
	}
	if st := srv.Stats(); st.ClientCredentials != 2 {
		t.Errorf("stats %+v", st)
	}
	a.ClientSecret = "wrong-secret-value"
	_, err = e.Login(context.Background(), a, oauth.Credentials{})
	if err == nil || strings.Contains(err.Error(), "wrong-secret-value") || errors.Is(err, accounts.ErrLoginRequired) ||
		!strings.Contains(err.Error(), "check the client id and client secret") {
		t.Errorf("wrong secret: %v", err)
	}
	rev, err := e.Revoke(context.Background(), accounts.Account{Kind: accounts.KindPartner, AccessToken: got.AccessToken, ClientID: a.ClientID})
	if err != nil || rev.Outcome != accounts.RevokeUnsupported || rev.ConsentURL != "" {
		t.Errorf("partner revoke: %+v %v", rev, err)
	}
}

func TestLegacyPasswordRefreshRevoke(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{LegacyRevokeWorks: true})
	e := &oauth.Engine{}
	a, _ := oauth.Preset(accounts.KindLegacy, "na")
	a.Endpoints.BaseURL = srv.URL() + "/"
	user := srv.User()
	got, err := e.Login(context.Background(), a, oauth.Credentials{Email: user.Email, Password: user.Password})
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != user.Email || got.AccessToken == "" || got.RefreshToken == "" {
		t.Errorf("legacy %+v", got)
	}
	if d := time.Until(got.Expiry); d < 44*24*time.Hour || d > 46*24*time.Hour {
		t.Errorf("legacy token lives %v, want 45 days", d)
	}
	if _, err := e.Login(context.Background(), a, oauth.Credentials{Email: user.Email, Password: "not-the-password"}); err == nil ||
		errors.Is(err, accounts.ErrLoginRequired) || strings.Contains(err.Error(), "not-the-password") ||
		!strings.Contains(err.Error(), "check the email and password") {
		t.Errorf("wrong password: %v", err)
	}

	g, err := e.Refresh(context.Background(), got)
	if err != nil {
		t.Fatal(err)
	}
	if g.RefreshToken == "" || g.RefreshToken == got.RefreshToken || srv.RefreshTokenLive(got.RefreshToken) {
		t.Error("legacy refresh did not rotate")
	}
	got.Apply(g, time.Now())

	// Even a server that really revokes cannot say so: its 200 is the one
	// it answers to everything.
	rev, err := e.Revoke(context.Background(), got)
	if err != nil || rev.Outcome != accounts.RevokeUnconfirmed || len(rev.Revoked) != 0 || !strings.Contains(rev.Detail, "known to answer so without revoking") {
		t.Fatalf("revoke %+v %v", rev, err)
	}
	if st := srv.Stats(); st.PasswordGrants != 1 || st.LegacyRefreshes != 1 || st.LegacyRevocations != 1 {
		t.Errorf("stats %+v", st)
	}
}
