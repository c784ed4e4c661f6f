package accounts

import (
	"errors"
	"fmt"
	"time"
)

// CanRefresh is the one rule for whether a refresh of a may be sent to
// its server at all: not when it was revoked, not when the server already
// rejected its refresh token (only a new login helps: asking again would
// repeat the rejection, and Tesla counts such calls), and not without
// anything to refresh with. Every face asks it, so a row's key, the
// auto-refresh, refresh --all and the token service agree. The error is a
// *CannotRefreshError that says which.
func CanRefresh(a Account) error {
	switch {
	case a.State == StateRevoked, a.State == StateLoginRequired:
		reason := ""
		if a.State == StateLoginRequired {
			reason = cmpOr(a.StateDetail, "login_required")
		}
		return &CannotRefreshError{Account: a.Name, Kind: a.Kind, State: a.State, Reason: reason}
	case !a.Refreshable():
		return &CannotRefreshError{Account: a.Name, Kind: a.Kind, State: a.State}
	}
	return nil
}

// RetryAt is when a's next refresh may reach the server after the last
// one failed (the server's Retry-After, else a back-off), or the zero time
// when nothing holds it back. A wait that keyfob never sets is not kept:
// one longer than the longest Retry-After it honours after the failure (a
// record edited by hand or by something else), or one after a failure
// further ahead than machines' clocks differ (this clock was stepped back
// since): either would stop the account for as long as the time is off.
func (a *Account) RetryAt(now time.Time) time.Time {
	r := a.LastRefresh
	if r == nil || r.OK || r.At.Sub(now) > clockSkewMax || r.RetryAt.Sub(r.At) > retryAfterMax {
		return time.Time{}
	}
	return r.RetryAt
}

// clockSkewMax is how far ahead of this machine's clock another machine
// sharing the store may record a failure.
const clockSkewMax = 10 * time.Minute

// Back-off after failed refreshes that the server gave no Retry-After
// for: the first wait, doubled after each further failure up to the cap.
const (
	BackoffFirst = 30 * time.Second
	BackoffMax   = 30 * time.Minute
	// retryAfterMax bounds a server's Retry-After: a typo of a day or a
	// year must not stop the account for longer than a new login would.
	retryAfterMax = 24 * time.Hour
)

// retryDelayer is an error that carries the delay a server asked for
// (Retry-After). The OAuth engine's server errors implement it.
type retryDelayer interface {
	RetryDelay() time.Duration
}

// nextRetry is when a refresh may be tried again after the failures-th
// failure in a row, with err.
func nextRetry(now time.Time, failures int, err error) time.Time {
	var rd retryDelayer
	if errors.As(err, &rd) && rd.RetryDelay() > 0 {
		return now.Add(min(rd.RetryDelay(), retryAfterMax))
	}
	d := BackoffFirst
	for i := 1; i < failures && d < BackoffMax; i++ {
		d *= 2
	}
	return now.Add(min(d, BackoffMax))
}

// BackoffError says that a refresh was not sent because the last one
// failed and its retry time has not come: the server asked to wait
// (Retry-After), or keyfob backs off so that a failing server gets one
// attempt per account at a time. It matches ErrBackoff.
type BackoffError struct {
	Account string
	RetryAt time.Time
	// Last is the error of the last attempt.
	Last string
	// ServerAsked is set when the server gave the delay (Retry-After).
	ServerAsked bool
}

// ErrBackoff matches a *BackoffError.
var ErrBackoff = errors.New("refresh postponed after a failure")

func (e *BackoffError) Error() string {
	why := "keyfob waits before asking again"
	if e.ServerAsked {
		why = "the server asked to wait (Retry-After)"
	}
	return fmt.Sprintf("the last refresh of %q failed (%s) and %s until %s",
		e.Account, e.Last, why, e.RetryAt.Local().Format("15:04:05"))
}

// Is matches ErrBackoff.
func (e *BackoffError) Is(target error) bool { return target == ErrBackoff }

// RetryIn is how long until the refresh may be tried, at least a second.
func (e *BackoffError) RetryIn(now time.Time) time.Duration {
	return max(e.RetryAt.Sub(now), time.Second)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
