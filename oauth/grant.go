package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/keyfob/keyfob/accounts"
)

// Credentials are the secrets of a password grant.
type Credentials struct{ Email, Password string }

// Login runs a login that needs no browser: the password grant (legacy
// kind: a JSON body to {base}/oauth/token; custom with grant password: the
// standard form-encoded grant) or the client-credentials grant (partner,
// custom with grant client_credentials). It returns a with the grant
// applied; a's Name is left as given. Code-flow kinds use StartCodeFlow.
func (e *Engine) Login(ctx context.Context, a accounts.Account, c Credentials) (accounts.Account, error) {
	return e.LoginWith(ctx, a, c, LoginOptions{})
}

// LoginWith is Login with the options of one login.
func (e *Engine) LoginWith(ctx context.Context, a accounts.Account, c Credentials, o LoginOptions) (accounts.Account, error) {
	o.AllowInsecureHTTP = o.AllowInsecureHTTP || a.AllowInsecureHTTP
	if err := ValidateWith(PurposeLogin, a, o); err != nil {
		return a, err
	}
	allow := o.AllowInsecureHTTP
	email := strings.TrimSpace(c.Email)
	if email == "" {
		email = a.Email
	}
	var g accounts.Grant
	var err error
	switch GrantOf(a) {
	case grantLegacy, accounts.GrantPassword:
		g, err = e.passwordGrant(ctx, a, email, c.Password, allow)
	case accounts.GrantClientCredentials:
		g, err = e.clientCredentials(ctx, a, allow)
	default:
		return a, fmt.Errorf("a %s account signs in in the browser, not with a password; use the browser login", a.Kind)
	}
	if err != nil {
		return a, err
	}
	if g.Email == "" && a.Email == "" && GrantOf(a) != accounts.GrantClientCredentials {
		g.Email = email
	}
	g, _ = regionOf(a, g, false) // a region the account lacks (the kinds of a password or client grant only learn one)
	a.Apply(g, e.now())
	e.learnEmail(ctx, &a, allow)
	return a, nil
}

// passwordGrant runs the password grant of a legacy or custom account.
func (e *Engine) passwordGrant(ctx context.Context, a accounts.Account, email, password string, allow bool) (accounts.Grant, error) {
	switch {
	case email == "":
		return accounts.Grant{}, fieldErr(FieldEmail, "a password login needs the email")
	case password == "":
		return accounts.Grant{}, fieldErr(FieldPassword, "a password login needs the password")
	}
	if a.Kind == accounts.KindLegacy {
		return e.legacyToken(ctx, a, opPassword, allow, map[string]string{
			"grant_type": "password", "email": email, "password": password,
		})
	}
	// LoginWith validated the token URL; the recorder refuses a plain
	// http one all the same.
	conf := oauthConfig(a, "")
	rc := &call{allowHTTP: allow}
	rctx, _ := e.recording(ctx, rc, nil)
	tok, err := conf.PasswordCredentialsToken(rctx, email, password)
	if err != nil {
		return accounts.Grant{}, e.classify(ctx, rc, opPassword, err)
	}
	return e.grantFrom(a, rc, fieldsOf(tok), "")
}

// Refresh implements accounts.Authority: the refresh_token grant (fleet,
// owner, custom; legacy with a JSON body) or the client-credentials grant
// again (partner). When the answer carries no new refresh token the
// Grant's RefreshToken is empty, so the old one is kept. Nothing is sent
// to a plain http endpoint off loopback unless the account has the user's
// opt-in (its AllowInsecureHTTP).
func (e *Engine) Refresh(ctx context.Context, a accounts.Account) (accounts.Grant, error) {
	g, err := e.refresh(ctx, a)
	if err != nil || g.AccessToken == "" {
		return g, err
	}
	// The faces see the change in the account before and after
	// (RegionChangeOf).
	g, _ = regionOf(a, g, false)
	return g, nil
}

// refresh is Refresh by kind, before RegionCheck.
func (e *Engine) refresh(ctx context.Context, a accounts.Account) (accounts.Grant, error) {
	allow := a.AllowInsecureHTTP
	if a.UsesClientCredentials() {
		if a.ClientSecret == "" {
			return accounts.Grant{}, fmt.Errorf("%w: the account has no client secret; log in again with it", accounts.ErrNotRefreshable)
		}
		if a.Endpoints.TokenURL == "" {
			return accounts.Grant{}, errors.New("the account has no token URL; set its endpoints again or log in again")
		}
		return e.businessRefresh(ctx, a, allow)
	}
	if a.RefreshToken == "" {
		return accounts.Grant{}, fmt.Errorf("%w: the account has no refresh token; log in again", accounts.ErrNotRefreshable)
	}
	if a.Kind == accounts.KindLegacy {
		if a.Endpoints.BaseURL == "" {
			return accounts.Grant{}, errors.New("the legacy account has no owner-api base URL; set its endpoints again or log in again")
		}
		return e.legacyToken(ctx, a, opRefresh, allow, map[string]string{
			"grant_type": "refresh_token", "refresh_token": a.RefreshToken,
		})
	}
	if err := checkURL(a.Endpoints.TokenURL); err != nil {
		return accounts.Grant{}, fmt.Errorf("the token URL of the account %s; set its endpoints again or log in again", err)
	}
	if err := secureEndpoints(a, allow, FieldTokenURL); err != nil {
		return accounts.Grant{}, err
	}
	return e.refreshGrant(ctx, a, allow)
}

// regionOf is g with the region, audience and API base that RegionCheck
// decides for a once g's tokens are a's, and that decision: a safe
// correction goes into g (which Apply, and the manager, store); a refused
// one leaves g's tokens as they are, since the old refresh token may be
// spent.
func regionOf(a accounts.Account, g accounts.Grant, trustFamily bool) (accounts.Grant, RegionChange) {
	after := a
	after.AccessToken = g.AccessToken
	if g.IDToken != "" {
		after.IDToken = g.IDToken
	}
	c := regionCheck(after, trustFamily)
	return c.onGrant(a, g), c
}

// refreshGrant is the standard refresh_token grant.
func (e *Engine) refreshGrant(ctx context.Context, a accounts.Account, allow bool) (accounts.Grant, error) {
	var extra url.Values
	if a.Kind == accounts.KindOwner {
		// Tesla SSO's Owner API refresh names the scopes again.
		scopes := a.RequestedScopes
		if len(scopes) == 0 {
			scopes = OwnerScopes
		}
		extra = url.Values{"scope": {strings.Join(scopes, " ")}}
	}
	conf := oauthConfig(a, "")
	rc := &call{allowHTTP: allow}
	rctx, _ := e.recording(ctx, rc, extra)
	tok, err := conf.TokenSource(rctx, &oauth2.Token{RefreshToken: a.RefreshToken}).Token()
	if err != nil {
		return rotatedIn(rc, a.RefreshToken), e.classify(ctx, rc, opRefresh, err)
	}
	return e.grantFrom(a, rc, fieldsOf(tok), a.RefreshToken)
}

// rotatedIn is the new refresh token of a successful answer that x/oauth2
// refused (one without an access token): the server may have spent the
// old one, so the manager must keep it. It is an empty Grant otherwise.
func rotatedIn(rc *call, old string) accounts.Grant {
	if rc.status < 200 || rc.status > 299 {
		return accounts.Grant{}
	}
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	if json.Unmarshal(rc.body.Bytes(), &body) != nil || body.RefreshToken == old {
		return accounts.Grant{}
	}
	return accounts.Grant{RefreshToken: body.RefreshToken}
}

// oauthConfig is the x/oauth2 view of a: client credentials in the body
// (client_secret_post), as Tesla wants.
func oauthConfig(a accounts.Account, redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     a.ClientID,
		ClientSecret: a.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   a.Endpoints.AuthURL,
			TokenURL:  a.Endpoints.TokenURL,
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirectURI,
		Scopes:      a.RequestedScopes,
	}
}

func (e *Engine) clientCredentials(ctx context.Context, a accounts.Account, allow bool) (accounts.Grant, error) {
	if err := secureEndpoints(a, allow, FieldTokenURL); err != nil {
		return accounts.Grant{}, err
	}
	cc := clientcredentials.Config{
		ClientID:     a.ClientID,
		ClientSecret: a.ClientSecret,
		TokenURL:     a.Endpoints.TokenURL,
		Scopes:       a.RequestedScopes,
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	cc.EndpointParams = url.Values{}
	if a.Audience != "" {
		cc.EndpointParams.Set("audience", a.Audience)
	}
	if a.AuthCode != "" {
		// A third-party business token: the business's consent.
		cc.EndpointParams.Set("auth_code", a.AuthCode)
	}
	rc := &call{allowHTTP: allow}
	rctx, _ := e.recording(ctx, rc, nil)
	tok, err := cc.Token(rctx)
	if err != nil {
		op := opClientCredentials
		if a.AuthCode != "" {
			op = opBusiness
		}
		return accounts.Grant{}, e.classify(ctx, rc, op, err)
	}
	g, err := e.grantFrom(a, rc, fieldsOf(tok), "")
	if a.AuthCode == "" {
		// A partner token has no refresh token: "refresh" runs the grant
		// again. A business token keeps one if the answer has it (see
		// businessRefresh).
		g.RefreshToken = ""
	}
	return g, err
}

// businessRefresh gets a new token for a client-credentials account. A
// third-party business token (a.AuthCode set) that came with a refresh
// token is refreshed with it, and the rotated one kept; when that one is
// refused (spent, expired), or there is none, the grant runs again with
// the business's auth code, which stands until the business withdraws its
// consent. A partner token always runs the grant again.
func (e *Engine) businessRefresh(ctx context.Context, a accounts.Account, allow bool) (accounts.Grant, error) {
	if a.AuthCode != "" && a.RefreshToken != "" {
		g, err := e.refreshGrant(ctx, a, allow)
		if err == nil || g.RefreshToken != "" || !errors.Is(err, accounts.ErrLoginRequired) {
			return g, err
		}
	}
	return e.clientCredentials(ctx, a, allow)
}

// tokenFields are the parts of a token answer keyfob uses.
type tokenFields struct {
	access, tokenType, refresh, idToken, scope string
	expiresIn, createdAt                       int64
}

func fieldsOf(t *oauth2.Token) tokenFields {
	f := tokenFields{access: t.AccessToken, tokenType: t.TokenType, refresh: t.RefreshToken, expiresIn: t.ExpiresIn}
	f.idToken, _ = t.Extra("id_token").(string)
	f.scope, _ = t.Extra("scope").(string)
	if f.expiresIn == 0 {
		// clientcredentials drops ExpiresIn; read it from the raw answer.
		f.expiresIn = number(t.Extra("expires_in"))
	}
	f.createdAt = number(t.Extra("created_at"))
	return f
}

// number reads a JSON or form number field: a count of seconds, so a
// value that is not positive or would overflow a time.Duration (past
// math.MaxInt32, as x/oauth2 bounds JSON answers) is 0, unknown.
func number(v any) int64 {
	var n int64
	switch x := v.(type) {
	case float64:
		if x > 0 && x < math.MaxInt32 {
			n = int64(x)
		}
	case int64:
		n = x
	case string:
		n, _ = strconv.ParseInt(strings.TrimSpace(x), 10, 64)
	}
	if n <= 0 || n >= math.MaxInt32 {
		return 0
	}
	return n
}

// grantFrom checks a token answer and turns it into a Grant. oldRefresh is
// the refresh token that was presented: a refresh token equal to it (or
// none) means it was not rotated and the Grant leaves it empty.
func (e *Engine) grantFrom(a accounts.Account, rc *call, f tokenFields, oldRefresh string) (accounts.Grant, error) {
	endpoint := rc.endpoint
	if endpoint == "" {
		endpoint = endpointOf(a.Endpoints.TokenURL)
	}
	// An answer keyfob cannot use may still carry a rotated refresh token,
	// and the one presented may be spent: the Grant keeps it for the
	// manager to save (see accounts.Authority).
	var rotated accounts.Grant
	if oldRefresh != "" && f.refresh != "" && f.refresh != oldRefresh {
		rotated.RefreshToken = f.refresh
	}
	if f.access == "" {
		return rotated, &ServerError{Endpoint: endpoint, StatusCode: rc.status, Kind: KindMissingFields}
	}
	if f.tokenType != "" && !strings.EqualFold(f.tokenType, "bearer") {
		return rotated, &ServerError{Endpoint: endpoint, StatusCode: rc.status, Kind: KindTokenType,
			TokenType: rc.redact.clean(f.tokenType, 20)}
	}
	now := e.now()
	g := accounts.Grant{
		TokenType:   "Bearer",
		AccessToken: f.access,
		IDToken:     f.idToken,
	}
	if f.refresh != oldRefresh {
		g.RefreshToken = f.refresh
	}
	access, accessJWT := Inspect(f.access)
	// created_at (legacy answers) dates the token by the server's clock;
	// one far from ours is a unit mix-up, not a date.
	created := time.Unix(f.createdAt, 0)
	switch {
	case f.expiresIn > 0 && f.createdAt > 0 && created.After(now.Add(-24*time.Hour)) && created.Before(now.Add(24*time.Hour)):
		g.Expiry = created.Add(time.Duration(f.expiresIn) * time.Second)
	case f.expiresIn > 0:
		g.Expiry = now.Add(time.Duration(f.expiresIn) * time.Second)
	case accessJWT:
		g.Expiry = access.ExpiresAt
	}
	switch {
	case accessJWT && len(access.Scopes) > 0:
		g.GrantedScopes = access.Scopes
	case strings.TrimSpace(f.scope) != "":
		g.GrantedScopes = accounts.ParseScopes(f.scope)
	default:
		g.GrantedScopes = clone(a.RequestedScopes)
	}
	if id, ok := Inspect(f.idToken); ok {
		g.Email, g.Subject = id.Email, id.Subject
	}
	if accessJWT {
		if g.Subject == "" {
			g.Subject = access.Subject
		}
		if g.Email == "" {
			g.Email = access.Email
		}
	}
	// The region is RegionCheck's to decide (regionOf), for every grant.
	return g, nil
}

// legacyToken runs the legacy owner-api grant: a JSON body to
// {base}/oauth/token with the client id and secret.
func (e *Engine) legacyToken(ctx context.Context, a accounts.Account, op operation, allow bool, fields map[string]string) (accounts.Grant, error) {
	if err := secureEndpoints(a, allow, FieldBaseURL); err != nil {
		return accounts.Grant{}, err
	}
	body := map[string]string{"client_id": a.ClientID, "client_secret": a.ClientSecret}
	for k, v := range fields {
		body[k] = v
	}
	data, _ := json.Marshal(body) // a map of strings always encodes
	var resp struct {
		AccessToken  string  `json:"access_token"`
		TokenType    string  `json:"token_type"`
		ExpiresIn    float64 `json:"expires_in"`
		RefreshToken string  `json:"refresh_token"`
		CreatedAt    float64 `json:"created_at"`
		IDToken      string  `json:"id_token"`
		Scope        string  `json:"scope"`
	}
	tokenURL := strings.TrimRight(a.Endpoints.BaseURL, "/") + "/oauth/token"
	header := http.Header{"Content-Type": {"application/json"}}
	rc := &call{allowHTTP: allow}
	if err := e.doCall(ctx, rc, op, http.MethodPost, tokenURL, header, data, &resp); err != nil {
		return accounts.Grant{}, err
	}
	f := tokenFields{access: resp.AccessToken, tokenType: resp.TokenType, refresh: resp.RefreshToken,
		idToken: resp.IDToken, scope: resp.Scope, expiresIn: number(resp.ExpiresIn), createdAt: number(resp.CreatedAt)}
	old := ""
	if op == opRefresh {
		old = a.RefreshToken
	}
	return e.grantFrom(a, rc, f, old)
}

// learnEmail fills a.Email from the userinfo endpoint when the tokens did
// not say. Best effort: any failure leaves the email unknown, and a plain
// http endpoint off loopback (unless allowed) is not asked.
func (e *Engine) learnEmail(ctx context.Context, a *accounts.Account, allow bool) {
	if a.Email != "" || a.Endpoints.UserInfoURL == "" || a.AccessToken == "" ||
		secureEndpoints(*a, allow, FieldUserInfoURL) != nil {
		return
	}
	var info struct {
		Email    string `json:"email"`
		Response *struct {
			Email string `json:"email"`
		} `json:"response"`
	}
	header := http.Header{"Authorization": {"Bearer " + a.AccessToken}}
	if err := e.doCall(ctx, &call{allowHTTP: allow}, opUserInfo, http.MethodGet, a.Endpoints.UserInfoURL, header, nil, &info); err != nil {
		return
	}
	switch {
	case info.Email != "":
		a.Email = info.Email
	case info.Response != nil:
		a.Email = info.Response.Email
	}
}
