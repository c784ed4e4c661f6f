package oauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

func businessAccount(t *testing.T, e *oauth.Engine, srv *sandbox.Server, code string) accounts.Account {
	a := preset(t, e, srv, accounts.KindPartner, "na")
	a.ClientID, a.ClientSecret, a.AuthCode = sandbox.PartnerClientID, sandbox.PartnerSecret, code
	return a
}

// TestBusinessTokenWithoutRefreshToken: client credentials plus the
// business's auth_code give a business token; with no refresh token in
// the answer, each refresh runs the grant again with the code.
func TestBusinessTokenWithoutRefreshToken(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	e := &oauth.Engine{}
	ctx := context.Background()
	code := srv.GrantBusinessConsent(sandbox.PartnerClientID)
	a, err := e.Login(ctx, businessAccount(t, e, srv, code), oauth.Credentials{})
	if err != nil || a.AccessToken == "" || a.RefreshToken != "" || !a.Refreshable() {
		t.Fatalf("login: %v %+v", err, a)
	}
	g, err := e.Refresh(ctx, a)
	if err != nil || g.AccessToken == "" || g.AccessToken == a.AccessToken {
		t.Fatalf("refresh: %v", err)
	}
	if st := srv.Stats(); st.ClientCredentials != 2 || st.Refreshes != 0 {
		t.Fatalf("stats %+v", st)
	}

	// A wrong code, and a withdrawn consent: refused, and the code is in
	// no message.
	if _, err := e.Login(ctx, businessAccount(t, e, srv, "biz_not-a-consent"), oauth.Credentials{}); err == nil ||
		strings.Contains(err.Error(), "biz_not-a-consent") || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("wrong code: %v", err)
	}
	srv.WithdrawBusinessConsent(code)
	if _, err := e.Refresh(ctx, a); err == nil || strings.Contains(err.Error(), code) || !errors.Is(err, accounts.ErrLoginRequired) {
		t.Fatalf("withdrawn consent: %v", err)
	}
	// Without the code it is a partner token again: no auth_code sent.
	p := businessAccount(t, e, srv, "")
	if _, err := e.Login(ctx, p, oauth.Credentials{}); err != nil {
		t.Fatalf("partner: %v", err)
	}
}

// TestBusinessTokenWithRefreshToken: when the grant answers with a refresh
// token, keyfob keeps it and refreshes with it (rotating); when it is
// refused, the grant runs again with the auth code.
func TestBusinessTokenWithRefreshToken(t *testing.T) {
	srv := sandbox.NewTest(t, sandbox.Options{})
	srv.SetBusinessRefreshTokens(true)
	e := &oauth.Engine{}
	ctx := context.Background()
	a, err := e.Login(ctx, businessAccount(t, e, srv, sandbox.BusinessAuthCode), oauth.Credentials{})
	if err != nil || a.RefreshToken == "" {
		t.Fatalf("login: %v %+v", err, a)
	}
	g, err := e.Refresh(ctx, a)
	if err != nil || g.RefreshToken == "" || g.RefreshToken == a.RefreshToken {
		t.Fatalf("refresh: %v %+v", err, g)
	}
	if st := srv.Stats(); st.Refreshes != 1 || st.ClientCredentials != 1 {
		t.Fatalf("the refresh token was not used: %+v", st)
	}
	// a's refresh token is spent now: the grant runs again.
	g, err = e.Refresh(ctx, a)
	if err != nil || g.AccessToken == "" || g.RefreshToken == "" {
		t.Fatalf("fallback: %v %+v", err, g)
	}
	if st := srv.Stats(); st.ClientCredentials != 2 {
		t.Fatalf("the grant did not run again: %+v", st)
	}
}

// TestBusinessAuthCodeNeverInErrors: a token endpoint that echoes the
// request back does not get the auth code into keyfob's error.
func TestBusinessAuthCodeNeverInErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"unknown auth_code %s"}`, r.PostForm.Get("auth_code"))
	}))
	defer srv.Close()
	a := accounts.Account{Kind: accounts.KindPartner, ClientID: "app", ClientSecret: "s3cret-value",
		AuthCode: "biz_0123456789abcdef", Audience: "https://fleet-api.prd.na.vn.cloud.tesla.com",
		Endpoints: accounts.Endpoints{TokenURL: srv.URL + "/token"}}
	_, err := (&oauth.Engine{}).Login(context.Background(), a, oauth.Credentials{})
	if err == nil || strings.Contains(err.Error(), a.AuthCode) || !strings.Contains(err.Error(), "Tesla for Business") {
		t.Fatalf("%v", err)
	}
}
