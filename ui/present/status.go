package present

import (
	"time"

	"github.com/keyfob/keyfob/accounts"
)

// Tone is what a status or an expiry means to the user; the TUI picks a
// colour for each, the command line shows the words alone.
type Tone int

// The tones.
const (
	ToneOK Tone = iota
	ToneWarn
	ToneDanger
	ToneMuted
	ToneBusy
)

// Status is an account's condition as both faces show it: a symbol and a
// word that read without colour, an optional detail (already cleaned for a
// terminal) and a tone.
type Status struct {
	Symbol string // "✓", "!", "✗", "⊘", "⊗", "…"; "" while refreshing (the TUI shows a spinner)
	Word   string // "valid", "expiring", "refresh failed", …
	Detail string // why, for errors and failed refreshes
	Tone   Tone
}

// String is the status in one line: "✓ valid", "✗ error: invalid_client".
func (s Status) String() string {
	out := s.Word
	if s.Symbol != "" {
		out = s.Symbol + " " + out
	}
	if s.Detail != "" {
		out += ": " + s.Detail
	}
	return out
}

// Label is the status without its detail: "✓ valid", "! refresh failed".
// It fits a column; String carries the why.
func (s Status) Label() string {
	if s.Symbol != "" {
		return s.Symbol + " " + s.Word
	}
	return s.Word
}

// RefreshEndingWord is the status word of an account whose refresh token is
// near its estimated end (see accounts.Account.RefreshExpiresSoon).
const RefreshEndingWord = "refresh ending"

// What renews an account's refresh token (Renewal).
const (
	// RenewedByRefresh: a refresh does. Tesla's refresh answers carry a
	// new refresh token, which lives about 3 months again; keyfob saves
	// it and restarts the estimate.
	RenewedByRefresh = "refresh"
	// RenewedByLogin: only a new login does. The server kept the old
	// refresh token at the account's last refresh (an Owner API refresh
	// answer may leave it out), and with it the old estimate.
	RenewedByLogin = "login"
)

// Renewal says what renews a's refresh token: RenewedByLogin when the last
// refresh worked but kept the refresh token (it was obtained before that
// refresh), else RenewedByRefresh; "" when a has no refresh token (nothing
// to renew, or its grant is simply run again).
func Renewal(a *accounts.Account) string {
	if a.RefreshToken == "" {
		return ""
	}
	if lr := a.LastRefresh; lr != nil && lr.OK && !a.RefreshObtainedAt.IsZero() && lr.At.After(a.RefreshObtainedAt) {
		return RenewedByLogin
	}
	return RenewedByRefresh
}

// Refreshing is the status of an account whose refresh is under way.
func Refreshing() Status { return Status{Word: "refreshing", Tone: ToneBusy} }

// Queued is the status of an account waiting for a refresh slot.
func Queued() Status { return Status{Symbol: "…", Word: "queued", Tone: ToneBusy} }

// StatusOf is the status of a at now. The priority, highest first: revoked,
// login required, error and expired (the token does not work); then, while
// the access token still works, a failed refresh; then a refresh token
// within accounts.RefreshEndingWithin of its estimated end ("refresh
// ending": the account stops working for good when it ends, unless a
// refresh or a new login renews it — see Renewal — so it outranks
// "expiring"); then expiring; then valid.
func StatusOf(a *accounts.Account, now time.Time) Status {
	h := a.Health(now)
	works := h == accounts.HealthValid || h == accounts.HealthExpiring
	if why := a.RefreshFailed(); why != "" && works {
		return Status{Symbol: "!", Word: "refresh failed", Detail: OneLine(why), Tone: ToneWarn}
	}
	if works && a.RefreshExpiresSoon(now) {
		// No detail: "! refresh ending" fills the list's status column,
		// and the detail view says when and what to do.
		return Status{Symbol: "!", Word: RefreshEndingWord, Tone: ToneWarn}
	}
	switch h {
	case accounts.HealthValid:
		return Status{Symbol: "✓", Word: "valid", Tone: ToneOK}
	case accounts.HealthExpiring:
		return Status{Symbol: "!", Word: "expiring", Tone: ToneWarn}
	case accounts.HealthExpired:
		return Status{Symbol: "✗", Word: "expired", Tone: ToneDanger}
	case accounts.HealthRevoked:
		return Status{Symbol: "⊘", Word: "revoked", Tone: ToneMuted}
	case accounts.HealthLoginRequired:
		return Status{Symbol: "⊗", Word: "login required", Tone: ToneDanger}
	case accounts.HealthError:
		return Status{Symbol: "✗", Word: "error", Detail: OneLine(a.StateDetail), Tone: ToneDanger}
	}
	return Status{Word: OneLine(string(h)), Tone: ToneMuted}
}

// Urgency classifies how soon an access token expires; it picks the colour
// of a countdown.
type Urgency int

// The urgencies.
const (
	UrgencyNone     Urgency = iota // no expiry known
	UrgencyFine                    // more than accounts.ExpiringWithin left
	UrgencyWarning                 // less than accounts.ExpiringWithin (an hour)
	UrgencyCritical                // less than CriticalWithin
	UrgencyExpired                 // gone
)

// CriticalWithin is when a countdown turns critical; it turns a warning at
// accounts.ExpiringWithin, where the status says "expiring".
const CriticalWithin = 10 * time.Minute

// UrgencyOf classifies a token expiring at exp, seen at now.
func UrgencyOf(exp, now time.Time) Urgency {
	if exp.IsZero() {
		return UrgencyNone
	}
	left := exp.Sub(now)
	switch {
	case left <= 0:
		return UrgencyExpired
	case left < CriticalWithin:
		return UrgencyCritical
	case left < accounts.ExpiringWithin:
		return UrgencyWarning
	}
	return UrgencyFine
}

// ExpiresIn says when a's access token expires, roughly: "in 7h 41m",
// "expired 3 minutes ago", "unknown" (the server did not say) or "-" (no
// token).
func ExpiresIn(a *accounts.Account, now time.Time) string {
	switch {
	case a.AccessToken == "":
		return "-"
	case a.Expiry.IsZero():
		return "unknown"
	}
	d := a.Expiry.Sub(now)
	if d <= 0 {
		return "expired " + Approx(-d) + " ago"
	}
	return "in " + Approx(d)
}
