package common

import (
	"context"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// Logins is the one path from a form to a saved account, as the login
// wizard sees it: an *oauth.Logins (through LoginsOf), or a stand-in in
// tests that need a sign-in in a given state.
type Logins interface {
	// Preset returns the defaults a login of kind k in region starts from.
	Preset(k accounts.Kind, region string) (accounts.Account, error)
	// Prepare builds and validates the account of a request; it reads an
	// issuer's discovery document when the request names one, and does no
	// I/O otherwise.
	Prepare(ctx context.Context, r oauth.Request) (oauth.Prepared, error)
	// Begin checks the name and starts the sign-in.
	Begin(ctx context.Context, p oauth.Prepared) (SignIn, error)
	// Import adds an account from its refresh token.
	Import(ctx context.Context, p oauth.Prepared) (oauth.Saved, error)
	// RedirectFor returns the redirect URI remembered for a Fleet API
	// app's client id, or "". The TUI answers from the settings it keeps
	// in memory (see ui.redirectMemory), so it reads no file.
	RedirectFor(clientID string) string
}

// SignIn is a sign-in under way (an *oauth.Attempt).
type SignIn interface {
	// Browser is the browser sign-in, or nil for grants that need none.
	Browser() Browser
	// Finish runs the grant, or waits for the browser to come back to
	// the loopback listener, and saves the account.
	Finish(ctx context.Context) (oauth.Saved, error)
	// Complete finishes a browser sign-in from a pasted address or code.
	Complete(ctx context.Context, pasted string) (oauth.Saved, error)
	// Close abandons the sign-in; a loopback listener stops.
	Close()
}

// Browser is the browser part of a sign-in (an *oauth.CodeFlow).
type Browser interface {
	AuthURL() string
	RedirectURI() string
	Loopback() bool
	OpenBrowser() error
}

// LoginsOf is l as the wizard uses it.
func LoginsOf(l *oauth.Logins) Logins { return logins{l} }

type logins struct{ *oauth.Logins }

// RedirectFor implements Logins.
func (l logins) RedirectFor(clientID string) string {
	if l.Logins.RedirectFor == nil {
		return ""
	}
	return l.Logins.RedirectFor(clientID)
}

// Begin implements Logins.
func (l logins) Begin(ctx context.Context, p oauth.Prepared) (SignIn, error) {
	at, err := l.Logins.Begin(ctx, p)
	if err != nil {
		return nil, err
	}
	return attempt{at}, nil
}

type attempt struct{ *oauth.Attempt }

// Browser implements SignIn: the code flow, when there is one (a nil
// *oauth.CodeFlow would be a non-nil Browser).
func (a attempt) Browser() Browser {
	if f := a.Flow(); f != nil {
		return f
	}
	return nil
}
