package oauth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// minted is a fleet account holding tokens the sandbox minted.
func minted(t *testing.T, e *oauth.Engine, srv *sandbox.Server) accounts.Account {
	t.Helper()
	a := preset(t, e, srv, accounts.KindFleet, "na")
	a.ClientID = sandbox.FleetClientID
	ts := srv.Mint(sandbox.MintRequest{ClientID: sandbox.FleetClientID, Scopes: []string{"openid", "offline_access", "vehicle_device_data"}})
	a.AccessToken, a.RefreshToken, a.IDToken, a.Expiry = ts.AccessToken, ts.RefreshToken, ts.IDToken, ts.Expiry
	return a
}

func TestRefreshRotation(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	e := &oauth.Engine{}
	a := minted(t, e, srv)
	old := a.RefreshToken
	g, err := e.Refresh(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if g.RefreshToken == "" || g.RefreshToken == old || !srv.RefreshTokenLive(g.RefreshToken) || srv.RefreshTokenLive(old) {
		t.Fatal("the refresh token did not rotate")
	}
	if g.AccessToken == a.AccessToken || g.Email != srv.User().Email || !slices.Equal(g.GrantedScopes, []string{"openid", "offline_access", "vehicle_device_data"}) {
		t.Errorf("grant %+v", g)
	}
	// The old one is dead: using it again means a new login.
	_, err = e.Refresh(context.Background(), a)
	if !errors.Is(err, accounts.ErrLoginRequired) || !strings.Contains(err.Error(), "log in again") {
		t.Fatalf("reuse: %v", err)
	}
	if strings.Contains(err.Error(), old) {
		t.Fatal("the error holds the refresh token")
	}
	// A killed token too.
	a.Apply(g, time.Now())
	srv.KillRefreshToken(a.RefreshToken)
	if _, err := e.Refresh(context.Background(), a); !errors.Is(err, accounts.ErrLoginRequired) {
		t.Fatalf("killed: %v", err)
	}
	if _, err := e.Refresh(context.Background(), accounts.Account{Kind: accounts.KindFleet}); !errors.Is(err, accounts.ErrNotRefreshable) {
		t.Errorf("no refresh token: %v", err)
	}
}

// TestRefreshWithoutNewRefreshTokenKeepsTheOld uses a server that does not
// rotate, as Owner API refreshes sometimes do.
func TestRefreshWithoutNewRefreshTokenKeepsTheOld(t *testing.T) {
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		form = r.PostForm
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"fresh-access","token_type":"bearer","expires_in":300,"scope":"openid email"}`)
	}))
	defer srv.Close()
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	e := &oauth.Engine{Now: func() time.Time { return now }}
	a := accounts.Account{Kind: accounts.KindOwner, ClientID: "ownerapi", RefreshToken: "the-old-refresh-token",
		RefreshObtainedAt: now.Add(-time.Hour), Endpoints: accounts.Endpoints{TokenURL: srv.URL + "/oauth2/v3/token"}}
	g, err := e.Refresh(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if g.RefreshToken != "" || g.AccessToken != "fresh-access" || !g.Expiry.Equal(now.Add(5*time.Minute)) ||
		!slices.Equal(g.GrantedScopes, []string{"openid", "email"}) {
		t.Errorf("grant %+v", g)
	}
	a.Apply(g, now)
	if a.RefreshToken != "the-old-refresh-token" || !a.RefreshObtainedAt.Equal(now.Add(-time.Hour)) {
		t.Errorf("the old refresh token was not kept: %+v", a)
	}
	if form.Get("grant_type") != "refresh_token" || form.Get("client_id") != "ownerapi" ||
		form.Get("refresh_token") != "the-old-refresh-token" || form.Get("scope") != "openid email offline_access" {
		t.Errorf("owner refresh form %v", form)
	}
}

func TestSandboxFaults(t *testing.T) {
	cases := []struct {
		fault  sandbox.Fault
		kind   string
		status int
		login  bool
	}{
		{sandbox.FaultServerError, oauth.KindOAuth, 503, false},
		{sandbox.FaultTimeout, oauth.KindTimeout, 0, false},
		{sandbox.FaultSlowDrip, oauth.KindTimeout, 200, false},
		{sandbox.FaultMalformedJSON, oauth.KindMalformed, 200, false},
		{sandbox.FaultHTML, oauth.KindHTML, 502, false},
		{sandbox.FaultRateLimit, oauth.KindOAuth, 429, false},
		{sandbox.FaultLoginRequired, oauth.KindOAuth, 401, true},
		{sandbox.FaultInvalidGrant, oauth.KindOAuth, 400, true},
		{sandbox.FaultMissingFields, oauth.KindMissingFields, 200, false},
		{sandbox.FaultWrongTokenType, oauth.KindTokenType, 200, false},
	}
	for _, tc := range cases {
		t.Run(string(tc.fault), func(t *testing.T) {
			if tc.kind == oauth.KindTimeout {
				// It waits out the client's timeout however fast the
				// machine is: beside the other one that does.
				t.Parallel()
			}
			srv := sandbox.NewTest(t, sandbox.Options{})
			e := &oauth.Engine{HTTPClient: &http.Client{Timeout: 500 * time.Millisecond}}
			a := minted(t, e, srv)
			srv.FailNext(tc.fault, 1)
			_, err := e.Refresh(context.Background(), a)
			var se *oauth.ServerError
			if !errors.As(err, &se) {
				t.Fatalf("got %T %v", err, err)
			}
			if se.Kind != tc.kind || se.StatusCode != tc.status || errors.Is(err, accounts.ErrLoginRequired) != tc.login {
				t.Errorf("kind %q status %d login %v: %v", se.Kind, se.StatusCode, errors.Is(err, accounts.ErrLoginRequired), err)
			}
			if tc.fault == sandbox.FaultRateLimit && se.RetryAfter != 7*time.Second {
				t.Errorf("retry after %v", se.RetryAfter)
			}
			if !strings.Contains(err.Error(), strings.TrimPrefix(srv.URL(), "http://")) {
				t.Errorf("the message does not name the host: %v", err)
			}
			for _, secret := range []string{a.AccessToken, a.RefreshToken, a.IDToken} {
				if strings.Contains(err.Error(), secret) {
					t.Fatal("the error holds a token")
				}
			}
		})
	}
}

func TestRevokeOutcomes(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	e := &oauth.Engine{}

	a := minted(t, e, srv)
	rev, err := e.Revoke(context.Background(), a)
	if err != nil || rev.Outcome != accounts.RevokedAtServer || !slices.Equal(rev.Revoked, []string{"refresh_token", "access_token"}) {
		t.Fatalf("revoke %+v %v", rev, err)
	}
	if srv.RefreshTokenLive(a.RefreshToken) {
		t.Error("the refresh token is still live")
	}
	if info, _ := srv.AccessToken(a.AccessToken); !info.Revoked {
		t.Error("the access token is still valid")
	}
	if !strings.HasPrefix(rev.ConsentURL, "https://auth.tesla.com/user/revoke/consent?revoke_client_id="+sandbox.FleetClientID) {
		t.Errorf("consent %q", rev.ConsentURL)
	}
	if st := srv.Stats(); st.Revocations != 2 {
		t.Errorf("stats %+v", st)
	}

	b := minted(t, e, srv)
	b.Endpoints.RevokeURL = ""
	b.Region = "cn"
	rev, err = e.Revoke(context.Background(), b)
	if err != nil || rev.Outcome != accounts.RevokeUnsupported || !srv.RefreshTokenLive(b.RefreshToken) ||
		!strings.HasPrefix(rev.ConsentURL, "https://auth.tesla.cn/user/revoke/consent?revoke_client_id=") || rev.Detail == "" {
		t.Errorf("no endpoint: %+v %v", rev, err)
	}

	c := minted(t, e, srv)
	c.Kind = accounts.KindCustom
	c.Endpoints.RevokeURL = srv.URL() + "/no-such-revoke"
	rev, err = e.Revoke(context.Background(), c)
	if err == nil || rev.Outcome != accounts.RevokeFailed || strings.Contains(err.Error(), c.RefreshToken) || rev.ConsentURL != "" {
		t.Errorf("failing endpoint: %+v %v", rev, err)
	}
}

// The legacy /oauth/revoke answers 200 and revokes nothing: the outcome
// says so, and the manager keeps the tokens while marking the record.
func TestLegacyRevokeIsUnconfirmed(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	e := &oauth.Engine{}
	m := openManager(t, e)
	a, _ := oauth.Preset(accounts.KindLegacy, "na")
	a.Endpoints.BaseURL = srv.URL()
	got, err := e.Login(context.Background(), a, oauth.Credentials{Email: srv.User().Email, Password: srv.User().Password})
	if err != nil {
		t.Fatal(err)
	}
	saved, err := m.Add(context.Background(), got)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := m.Revoke(context.Background(), saved.Account.ID, accounts.RevokeOptions{})
	if err != nil || rev.Outcome != accounts.RevokeUnconfirmed || len(rev.Revoked) != 0 || strings.Contains(rev.Detail, "revoked") || rev.Removed {
		t.Fatalf("revoke %+v %v", rev, err)
	}
	stored, _ := m.Find(context.Background(), saved.Account.ID)
	if stored.State != accounts.StateRevoked || stored.AccessToken != got.AccessToken || stored.RefreshToken != got.RefreshToken {
		t.Errorf("stored %+v", stored)
	}
	if info, _ := srv.AccessToken(got.AccessToken); info.Revoked || !srv.RefreshTokenLive(got.RefreshToken) {
		t.Error("the sandbox revoked: the test proves nothing")
	}
	if srv.Stats().LegacyRevocations != 1 {
		t.Errorf("stats %+v", srv.Stats())
	}
}
