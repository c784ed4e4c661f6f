package fleetapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// Report is what Check learned about an account's access token. `keyfob
// check --json` prints it as it is: the field names are a documented,
// stable schema (README); fields are added, never renamed. Values are the
// servers' own, exact (JSON escapes what it must).
type Report struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// CheckedAt is when the check ran.
	CheckedAt time.Time `json:"checked_at"`
	// Refreshed is set when the token was refreshed first (--refresh).
	Refreshed bool `json:"refreshed"`
	// APIBaseURL is where the API calls went (oauth.APIBase): the
	// account's Fleet or Owner API base; "" for the kinds without one.
	APIBaseURL string `json:"api_base_url"`
	// AccessExpiresAt is the access token's expiry, null when unknown.
	AccessExpiresAt *time.Time `json:"access_expires_at"`
	// OK is true when every call worked and nothing disagrees.
	OK bool `json:"ok"`
	// Problem says what is wrong when OK is false.
	Problem string `json:"problem"`
	// Calls are the requests made, in order.
	Calls []Exchange `json:"calls"`
	// Region compares the account with users/region; null for the kinds
	// that do not call it (partner tokens have no user to ask about), or
	// when users/region failed.
	Region *RegionCheck `json:"region"`
	// User is who users/me or userinfo say the token acts for; null when
	// neither was asked or it failed.
	User *User `json:"user"`
	// Scopes compares the scopes granted with those requested.
	Scopes ScopeCheck `json:"scopes"`
	// Notes say what was skipped and why.
	Notes []string `json:"notes"`
}

// RegionCheck compares an account's region and Fleet API base (its
// audience) with what users/region answered.
type RegionCheck struct {
	Account     string `json:"account"`
	Tesla       string `json:"tesla"`
	Match       bool   `json:"match"`
	AccountBase string `json:"account_base_url"`
	TeslaBase   string `json:"tesla_base_url"`
	BaseMatch   bool   `json:"base_url_match"`
}

// ScopeCheck compares the scopes a token carries with those requested.
type ScopeCheck struct {
	// Source says where Granted comes from: "token" (the access token's
	// scp claim, what it really carries) or "account" (what the token
	// response listed, for a token that is not a JWT).
	Source    string   `json:"source"`
	Granted   []string `json:"granted"`
	Requested []string `json:"requested"`
	// Missing are requested scopes the token does not carry.
	Missing []string `json:"missing"`
}

// Sentinel errors of Check.
var (
	// ErrNoAccessToken: the account has no access token to check.
	ErrNoAccessToken = errors.New("no access token")
	// ErrNoBase: a Fleet API account has no audience, so no base URL.
	ErrNoBase = errors.New("no Fleet API base URL")
	// ErrOwnerAPIRefused: the Owner API refused an owner (or legacy) token
	// with 403, as Tesla does for many since 2026-06-12, while its sign-in
	// still accepts it.
	ErrOwnerAPIRefused = errors.New("the Owner API refused the token")
	// ErrNothingToCall: the account's kind has no Fleet API and the
	// account no userinfo endpoint.
	ErrNothingToCall = errors.New("nothing to call")
)

// Check proves a's access token against the live API without changing
// anything. The calls go to the account's API base (oauth.APIBase: the
// audience, unless the account calls elsewhere, as the sandbox's do).
// Fleet accounts: GET {base}/api/1/users/region, whose answer is compared
// with the account's region and audience, then (tokens carrying user_data)
// GET {base}/api/1/users/me. Partner accounts: a partner endpoint, GET
// {base}/api/1/partner_accounts/fleet_telemetry_errors (Tesla's user
// endpoints refuse a token without a user). Owner accounts: the userinfo
// endpoint, then the Owner API's GET {base}/api/1/vehicles, whose answer
// is reported as it is; legacy accounts: the Owner API alone. Custom
// accounts: the userinfo endpoint. The report is filled as far as the
// check got, also on error; the error is an *APIError, *NetError,
// *MismatchError or one of the sentinels above. The token goes over plain
// http off this machine (an http API base or userinfo URL, or a redirect
// to one) only for an account with AllowInsecureHTTP; otherwise the call
// fails unsent with an error matching oauth.ErrInsecureHTTP.
func (c *Client) Check(ctx context.Context, a accounts.Account) (Report, error) {
	var cc Client
	if c != nil {
		cc = *c
	}
	cc.allowHTTP = a.AllowInsecureHTTP
	c = &cc
	r := newReport(a, c.now())
	var err error
	switch {
	case a.AccessToken == "":
		err = ErrNoAccessToken
	case a.Kind == accounts.KindFleet:
		err = c.checkFleet(ctx, a, &r)
	case a.Kind == accounts.KindPartner:
		err = c.checkPartner(ctx, a, &r)
	case a.Kind == accounts.KindOwner || a.Kind == accounts.KindLegacy:
		err = c.checkOwner(ctx, a, &r)
	default:
		err = c.checkUserInfo(ctx, a, &r)
	}
	r.OK = err == nil
	if err != nil {
		r.Problem = err.Error()
	}
	return r, err
}

func newReport(a accounts.Account, now time.Time) Report {
	r := Report{Name: a.Name, ID: a.ID, Kind: string(a.Kind), CheckedAt: now, Calls: []Exchange{}, Notes: []string{},
		APIBaseURL: oauth.APIBase(a)}
	if !a.Expiry.IsZero() {
		exp := a.Expiry
		r.AccessExpiresAt = &exp
	}
	r.Scopes = scopesOf(a)
	return r
}

// scopesOf reads the scopes the access token carries from its scp claim,
// or, for an opaque token, those the account recorded.
func scopesOf(a accounts.Account) ScopeCheck {
	sc := ScopeCheck{Source: "account", Granted: a.GrantedScopes, Requested: a.RequestedScopes}
	if c, ok := oauth.Inspect(a.AccessToken); ok && len(c.Scopes) > 0 {
		sc.Source, sc.Granted = "token", c.Scopes
	}
	sc.Granted = slices.Clone(sc.Granted)
	sc.Requested = slices.Clone(sc.Requested)
	if sc.Granted == nil {
		sc.Granted = []string{}
	}
	if sc.Requested == nil {
		sc.Requested = []string{}
	}
	sc.Missing = []string{}
	if len(sc.Granted) == 0 {
		return sc // nothing known of what was granted: nothing to call missing
	}
	for _, s := range sc.Requested {
		if !slices.Contains(sc.Granted, s) {
			sc.Missing = append(sc.Missing, s)
		}
	}
	return sc
}

// checkFleet runs the Fleet API calls of Check for a fleet account: the
// region Tesla names for the user is compared with the account's region
// and audience (what the account asks tokens for), wherever the calls go.
func (c *Client) checkFleet(ctx context.Context, a accounts.Account, r *Report) error {
	base := r.APIBaseURL
	if base == "" {
		return ErrNoBase
	}
	audience := cmp.Or(strings.TrimSpace(a.Audience), base)
	reg, x, err := c.UsersRegion(ctx, base, a.AccessToken)
	r.Calls = append(r.Calls, x.All()...)
	if err != nil {
		return err
	}
	reg.BaseURL = withheld(reg.BaseURL, a.AccessToken)
	rc := &RegionCheck{Account: a.Region, Tesla: reg.Region, Match: strings.EqualFold(a.Region, reg.Region),
		AccountBase: audience, TeslaBase: reg.BaseURL, BaseMatch: sameBase(audience, reg.BaseURL)}
	r.Region = rc
	var mismatch *MismatchError
	if !rc.Match || !rc.BaseMatch {
		mismatch = &MismatchError{AccountRegion: a.Region, AccountBase: audience, Region: reg.Region, Base: reg.BaseURL}
	}
	if !slices.Contains(r.Scopes.Granted, "user_data") {
		r.Notes = append(r.Notes, "users/me not called: the token does not carry the user_data scope")
		return errOrNil(mismatch)
	}
	u, x, err := c.UsersMe(ctx, base, a.AccessToken)
	r.Calls = append(r.Calls, x.All()...)
	switch {
	case errors.Is(err, ErrMisdirected):
		if mismatch == nil {
			mismatch = &MismatchError{AccountRegion: a.Region, AccountBase: audience, Region: reg.Region, Base: reg.BaseURL}
		}
		mismatch.Misdirected = true
		return mismatch
	case err != nil:
		return err
	}
	r.User = &u
	return errOrNil(mismatch)
}

// errOrNil keeps a nil *MismatchError from becoming a non-nil error.
func errOrNil(m *MismatchError) error {
	if m == nil {
		return nil
	}
	return m
}

// checkUserInfo is Check for the kinds without a Fleet API.
func (c *Client) checkUserInfo(ctx context.Context, a accounts.Account, r *Report) error {
	if a.Endpoints.UserInfoURL == "" {
		return fmt.Errorf("%w: a %s account without a userinfo endpoint has no API keyfob can ask", ErrNothingToCall, a.Kind)
	}
	u, x, err := c.UserInfo(ctx, a.Endpoints.UserInfoURL, a.AccessToken)
	r.Calls = append(r.Calls, x.All()...)
	if err != nil {
		return err
	}
	r.User = &u
	return nil
}
