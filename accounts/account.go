// Package accounts holds keyfob's account model and the store that keeps
// accounts on disk: versioned JSON under the XDG config directory, written
// atomically and guarded by cross-process locks. It knows nothing of HTTP or
// of the terminal UI; the OAuth side plugs in through the Authority interface.
package accounts

import (
	"strings"
	"time"
)

// Kind names the kind of account, which decides how it logs in, refreshes
// and revokes.
type Kind string

// The account kinds keyfob supports.
const (
	KindFleet   Kind = "fleet"   // Fleet API third-party token: code + PKCE, rotating refresh tokens.
	KindOwner   Kind = "owner"   // Owner API token via Tesla SSO v3, client_id=ownerapi, pasted redirect.
	KindPartner Kind = "partner" // Fleet API partner token: client credentials, no refresh token.
	KindLegacy  Kind = "legacy"  // Retired owner-api /oauth/token password grant (JSON bodies).
	KindCustom  Kind = "custom"  // Any OAuth 2 server with explicit endpoints.
)

// Kinds lists every kind in the order the UI offers them.
var Kinds = []Kind{KindFleet, KindOwner, KindPartner, KindLegacy, KindCustom}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, known := range Kinds {
		if k == known {
			return true
		}
	}
	return false
}

// Grant types a custom account may use to log in.
const (
	GrantCode              = "code"
	GrantPassword          = "password"
	GrantClientCredentials = "client_credentials"
)

// State is the stored condition of an account, as opposed to the expiry of
// its access token, which is derived from the clock (see Account.Health).
type State string

// The stored states.
const (
	StateActive        State = "active"         // last refresh or login worked
	StateLoginRequired State = "login_required" // the server rejected the refresh token
	StateRevoked       State = "revoked"        // the user revoked the tokens
	StateError         State = "error"          // the last refresh failed for another reason
)

// Endpoints are an account's own URLs, filled from a preset at login and
// overridable, so a moved host needs no new release.
type Endpoints struct {
	AuthURL     string `json:"auth_url,omitempty"`
	TokenURL    string `json:"token_url,omitempty"`
	RevokeURL   string `json:"revoke_url,omitempty"`
	UserInfoURL string `json:"userinfo_url,omitempty"`
	// BaseURL is the legacy owner-api host: /oauth/token and /oauth/revoke
	// hang off it.
	BaseURL string `json:"base_url,omitempty"`
	// RedirectURI is the registered redirect URI of the app.
	RedirectURI string `json:"redirect_uri,omitempty"`
	// APIBaseURL is where keyfob calls the API the account's tokens are
	// for (check, partner): empty means the audience for fleet and partner
	// accounts and the region's Owner API for owner accounts. It differs
	// from the audience the tokens are requested for when the calls go
	// elsewhere: the sandbox's loopback Fleet API, or a proxy.
	APIBaseURL string `json:"api_base_url,omitempty"`
}

// RefreshResult records the outcome of the last refresh attempt.
type RefreshResult struct {
	At    time.Time `json:"at"`
	OK    bool      `json:"ok"`
	Error string    `json:"error,omitempty"`
	// Failures counts the refreshes that failed in a row, this one
	// included; RetryAt is when the next attempt may reach the server
	// (the server's Retry-After, else a back-off that grows with
	// Failures). Every process honours it, so a failing server sees one
	// attempt per account at a time, not one per caller.
	Failures int       `json:"failures,omitempty"`
	RetryAt  time.Time `json:"retry_at,omitzero"`
	// ServerDelay is set when RetryAt is the server's Retry-After.
	ServerDelay bool `json:"server_delay,omitempty"`
}

// Account is one saved login. Zero values mean "unknown" throughout.
type Account struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Email   string `json:"email,omitempty"`
	Subject string `json:"subject,omitempty"`
	Kind    Kind   `json:"kind"`
	Region  string `json:"region,omitempty"`
	// Grant is the login grant of a custom account (code, password or
	// client_credentials); empty means the kind's own.
	Grant string `json:"grant,omitempty"`

	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	// AuthCode is a business's consent to a partner account's app (Tesla
	// for Business's consent management): with it, the client-credentials
	// grant gives a third-party business token. A secret, kept like the
	// client secret.
	AuthCode  string    `json:"auth_code,omitempty"`
	Endpoints Endpoints `json:"endpoints"`
	Audience  string    `json:"audience,omitempty"`
	// AllowInsecureHTTP is the user's opt-in, given at login or import,
	// to reach this account's endpoints over plain http off this machine
	// (where anyone on the way can read its tokens). The OAuth engine
	// refuses such endpoints for every account without it.
	AllowInsecureHTTP bool `json:"allow_insecure_http,omitempty"`

	RequestedScopes []string `json:"requested_scopes,omitempty"`
	GrantedScopes   []string `json:"granted_scopes,omitempty"`

	TokenType    string    `json:"token_type,omitempty"`
	AccessToken  string    `json:"access_token,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	IDToken      string    `json:"id_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`

	AccessObtainedAt  time.Time `json:"access_obtained_at,omitzero"`
	RefreshObtainedAt time.Time `json:"refresh_obtained_at,omitzero"`
	CreatedAt         time.Time `json:"created_at,omitzero"`

	LastRefresh *RefreshResult `json:"last_refresh,omitempty"`
	State       State          `json:"state,omitempty"`
	// StateDetail explains State when it is not active (the server's error).
	StateDetail string `json:"state_detail,omitempty"`

	// Rotation counts the refresh tokens this account has had: it grows
	// by one each time a new refresh token replaces the old one. Of two
	// copies of an account (the store's and a recovery file's), the one
	// with the higher Rotation holds the newer refresh token, whatever
	// the clocks said when they were written.
	Rotation uint64 `json:"rotation,omitempty"`

	// Revision is the store's version of this account's record, set when
	// it is read and advanced by every write; 0 for an account not yet
	// stored. It is not part of the record itself.
	Revision int64 `json:"-"`
}

// Grant is what a login or refresh returned: the tokens and what is known
// about them. Empty fields mean the server did not say; Apply keeps the
// account's previous values for them where that is the right thing to do.
type Grant struct {
	TokenType     string
	AccessToken   string
	RefreshToken  string // empty: the server did not rotate it; keep the old one
	IDToken       string
	Expiry        time.Time
	GrantedScopes []string // from the access token's scp claim, else the response's scope
	Email         string
	Subject       string
	// Region, Audience and APIBaseURL correct the account's region (lower
	// case), audience (the Fleet API base URL of the region) and
	// Endpoints.APIBaseURL when they are set: the OAuth engine fills them
	// only with a correction it trusts (what the token's ou_code and aud
	// say), so Apply takes them even when the account has its own.
	Region     string
	Audience   string
	APIBaseURL string
}

// Apply stores g in a, as obtained at now: a rotated refresh token replaces
// the old one, a missing one keeps it, and the account becomes active.
func (a *Account) Apply(g Grant, now time.Time) {
	if g.TokenType != "" {
		a.TokenType = g.TokenType
	}
	a.AccessToken = g.AccessToken
	a.Expiry = g.Expiry
	a.AccessObtainedAt = now
	if g.RefreshToken != "" && g.RefreshToken != a.RefreshToken {
		a.SetRefreshToken(g.RefreshToken, now)
	}
	if g.IDToken != "" {
		a.IDToken = g.IDToken
	}
	if len(g.GrantedScopes) > 0 {
		a.GrantedScopes = append([]string(nil), g.GrantedScopes...)
	}
	if g.Email != "" {
		a.Email = g.Email
	}
	if g.Subject != "" {
		a.Subject = g.Subject
	}
	if g.Region != "" {
		a.Region = g.Region
	}
	if g.Audience != "" {
		a.Audience = g.Audience
	}
	if g.APIBaseURL != "" {
		a.Endpoints.APIBaseURL = g.APIBaseURL
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	a.State = StateActive
	a.StateDetail = ""
	a.LastRefresh = &RefreshResult{At: now, OK: true}
}

// SetRefreshToken replaces a's refresh token with a new one obtained at
// now, and counts the rotation.
func (a *Account) SetRefreshToken(token string, now time.Time) {
	a.RefreshToken, a.RefreshObtainedAt = token, now
	a.Rotation++
}

// Refreshable reports whether the account can get a new access token
// without the user: it has a refresh token, or its grant can simply be run
// again (client credentials).
func (a *Account) Refreshable() bool {
	return a.RefreshToken != "" || a.UsesClientCredentials()
}

// UsesClientCredentials reports whether the account's tokens come from the
// client_credentials grant (partner tokens, or a custom account set so).
func (a *Account) UsesClientCredentials() bool {
	return a.Kind == KindPartner || (a.Kind == KindCustom && a.Grant == GrantClientCredentials)
}

// ValidFor reports whether the access token is still good for at least d
// after now. A token of unknown expiry counts as valid: the server will say.
func (a *Account) ValidFor(now time.Time, d time.Duration) bool {
	if a.AccessToken == "" || a.State == StateRevoked {
		return false
	}
	if a.Expiry.IsZero() {
		return true
	}
	return a.Expiry.Sub(now) >= d
}

// EffectiveMargin is how long before expiry a's access token counts as due
// for a refresh, given the configured margin: margin, but never more than
// half the token's lifetime (Expiry − AccessObtainedAt). A token that lives
// no longer than the margin would otherwise be due from the moment it is
// issued, and every request for it would refresh it. When the lifetime is
// unknown, margin is kept. Manager.Token and RefreshMany apply it to their
// minValid; schedulers use RefreshDue.
func (a *Account) EffectiveMargin(margin time.Duration) time.Duration {
	if a.Expiry.IsZero() || a.AccessObtainedAt.IsZero() {
		return margin
	}
	life := a.Expiry.Sub(a.AccessObtainedAt)
	if life <= 0 {
		return margin
	}
	return min(margin, life/2)
}

// RefreshDue is when a's access token should be refreshed under the
// configured margin: its expiry less EffectiveMargin(margin). The TUI's
// auto-refresh schedules each account at this instant. It is the zero time
// when the expiry is unknown (nothing to schedule).
func (a *Account) RefreshDue(margin time.Duration) time.Time {
	if a.Expiry.IsZero() {
		return time.Time{}
	}
	return a.Expiry.Add(-a.EffectiveMargin(margin))
}

// Scopes returns the granted scopes when known, else the requested ones.
func (a *Account) Scopes() []string {
	if len(a.GrantedScopes) > 0 {
		return a.GrantedScopes
	}
	return a.RequestedScopes
}

// RefreshFailed is why the last refresh failed, or "" when it worked (or
// none was tried). A token can still be valid after a failed refresh.
func (a *Account) RefreshFailed() string {
	if a.LastRefresh == nil || a.LastRefresh.OK {
		return ""
	}
	return a.LastRefresh.Error
}

// RefreshTokenLifetime is how long Tesla refresh tokens live; their expiry
// cannot be decoded, so it is estimated from when they were obtained.
const RefreshTokenLifetime = 90 * 24 * time.Hour

// RefreshExpiresAt estimates when the refresh token dies, or the zero time
// when there is no refresh token or no idea when it was obtained.
func (a *Account) RefreshExpiresAt() time.Time {
	if a.RefreshToken == "" || a.RefreshObtainedAt.IsZero() {
		return time.Time{}
	}
	return a.RefreshObtainedAt.Add(RefreshTokenLifetime)
}

// RefreshEndingWithin is how long before its estimated end (see
// RefreshExpiresAt) a refresh token counts as ending soon, which both faces
// warn about: a new login before then keeps the account working.
const RefreshEndingWithin = 7 * 24 * time.Hour

// RefreshExpiresSoon reports whether a's refresh token ends, by the
// estimate of RefreshExpiresAt, less than RefreshEndingWithin after now
// (or has ended already). It is false when there is no estimate.
func (a *Account) RefreshExpiresSoon(now time.Time) bool {
	exp := a.RefreshExpiresAt()
	return !exp.IsZero() && exp.Sub(now) < RefreshEndingWithin
}

// Health is the condition of an account at an instant: its stored state
// combined with the expiry of its access token.
type Health string

// The health values, also the "status" of list --json.
const (
	HealthValid         Health = "valid"
	HealthExpiring      Health = "expiring"
	HealthExpired       Health = "expired"
	HealthRevoked       Health = "revoked"
	HealthLoginRequired Health = "login_required"
	HealthError         Health = "error"
)

// ExpiringWithin is when a valid token starts counting as expiring.
const ExpiringWithin = time.Hour

// Health reports the account's condition at now. A failed refresh counts
// as an error only once the access token is gone: until then the token
// works, and the failure shows in LastRefresh.
func (a *Account) Health(now time.Time) Health {
	switch a.State {
	case StateRevoked:
		return HealthRevoked
	case StateLoginRequired:
		return HealthLoginRequired
	}
	switch {
	case a.AccessToken == "" || (!a.Expiry.IsZero() && !now.Before(a.Expiry)):
		if a.State == StateError {
			return HealthError
		}
		return HealthExpired
	case !a.Expiry.IsZero() && a.Expiry.Sub(now) < ExpiringWithin:
		return HealthExpiring
	}
	return HealthValid
}

// ParseScopes splits a scope list given with spaces, commas or both, and
// drops empties and duplicates while keeping the order.
func ParseScopes(s string) []string {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' })
	out := fields[:0]
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
