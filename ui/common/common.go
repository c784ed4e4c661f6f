// Package common holds what the parts of keyfob's terminal interface share:
// Common (the context, size, clock, styles and the services parts act
// through), the styles built from a theme, the layout helpers every part
// draws with (boxes, paragraphs, wrapping, fitting) and the help lines built
// from key bindings. It imports no part, so each part can live in its own
// package and none of them holds the root model.
package common

import (
	"context"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/present"
)

// Common is shared by the root model and every part. The root owns it and
// is the only one to change it (on a resize, a theme or background change,
// a tick or a spinner frame); parts read it.
type Common struct {
	// Ctx ends with the program; commands run under it.
	Ctx context.Context
	// Styles are rebuilt when the theme or the background changes.
	Styles *Styles
	// Width and Height are the terminal's size.
	Width, Height int
	// DialogTop and DialogBottom are the lines of the screen a dialog
	// leaves visible: the header (and banner) above, the footer below.
	DialogTop, DialogBottom int
	// Now is the instant the screen shows, advanced by the one tick a
	// second; Loc is the viewer's time zone.
	Now time.Time
	Loc *time.Location
	// Frame is the spinner's current frame, styled.
	Frame string
	// Manager reads and changes the accounts.
	Manager *accounts.Manager
	// Logins signs in and imports (an *oauth.Logins, see LoginsOf).
	Logins Logins
	// Engine talks to the servers the guided set-up of a Fleet API app
	// needs besides the sign-in: partner tokens, the app's domain, Tesla's
	// partner endpoints.
	Engine *oauth.Engine
	// Browse, when set, replaces the user's browser in a sign-in: it
	// visits the address and returns the one it finally landed on.
	Browse func(ctx context.Context, authURL string) (landed string, err error)
	// Keys names the root's account keys for sentences that mention them
	// ("sign in again with n"), taken from its KeyMap.
	Keys KeyNames
	// Jobs says what the refresh scheduler is doing for an account; the
	// parts that show an account ask it rather than keep a copy (nil:
	// nothing is under way).
	Jobs Jobs
}

// KeyNames are the keys, as help shows them, that parts name in their
// text.
type KeyNames struct {
	New, Import, Refresh, Revoke, Remove, Edit string
}

// Job is what the refresh scheduler is doing for one account.
type Job int

// The jobs.
const (
	// NoJob: no refresh of the account runs or waits.
	NoJob Job = iota
	// Queued: a refresh waits for a free slot.
	Queued
	// Refreshing: a refresh is under way.
	Refreshing
)

// Jobs answers what the refresh scheduler is doing for the account id.
type Jobs interface {
	Job(id string) Job
}

// JobOf is what the refresh scheduler is doing for the account id.
func (c *Common) JobOf(id string) Job {
	if c.Jobs == nil {
		return NoJob
	}
	return c.Jobs.Job(id)
}

// Action is what a part decided in an Update, for the root to act on: a
// dialog's answer, a screen change. nil means nothing was decided.
type Action any

// Notice is a short message for the line above the footer.
type Notice struct {
	Text string
	Tone present.Tone
}
