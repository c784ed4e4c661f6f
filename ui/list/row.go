package list

import (
	"strings"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/present"
)

// Row is one account in the list, with what the screen knows beyond the
// store (its refresh state) and the parts of its rendering that do not
// change every second.
type Row struct {
	// Acct is the account as last read or refreshed; change it with Set.
	Acct accounts.Account

	// The refresh state, kept across reloads.
	Busy     bool      // a refresh is in flight
	Queued   bool      // waiting for a refresh slot
	Failures int       // consecutive auto-refresh failures
	RetryAt  time.Time // no auto-refresh before this (back-off)

	// Derived from Acct, cleaned for the terminal.
	name, email, kind string
	badges            []string // short scope labels, most useful first
	search            string   // lower-case text the filter matches

	// Render cache of the cells that do not tick, valid for cacheGen.
	cacheGen uint64
	pre      string // name, email and kind cells with their gaps
	scopes   string // the scopes cell
}

// NewRow prepares an account for the list.
func NewRow(a accounts.Account) *Row {
	r := &Row{}
	r.Set(a)
	return r
}

// Set replaces the row's account, recomputing what derives from it.
func (r *Row) Set(a accounts.Account) {
	r.Acct = a
	r.name = present.OneLine(a.Name)
	r.email = present.OneLine(a.Email)
	r.kind = present.KindRegion(&r.Acct)
	scopes := present.BadgeOrder(a.Scopes())
	r.badges = make([]string, len(scopes))
	var sb strings.Builder
	sb.WriteString(strings.ToLower(r.name))
	sb.WriteByte(' ')
	sb.WriteString(strings.ToLower(r.email))
	sb.WriteByte(' ')
	sb.WriteString(r.kind)
	for i, s := range scopes {
		r.badges[i] = present.DescribeScope(s).Short
		sb.WriteByte(' ')
		sb.WriteString(strings.ToLower(present.OneLine(s)))
		sb.WriteByte(' ')
		sb.WriteString(r.badges[i])
	}
	r.search = sb.String()
	r.cacheGen = 0
}

// Name is the account's name, safe for the terminal.
func (r *Row) Name() string { return r.name }

// Status is what the status column says of the row at now: a refresh
// under way or queued, else the account's own status.
func (r *Row) Status(now time.Time) present.Status {
	switch {
	case r.Busy:
		return present.Refreshing()
	case r.Queued:
		return present.Queued()
	}
	return present.StatusOf(&r.Acct, now)
}

// RefreshableNow reports whether a refresh of the row may start: the
// account can be refreshed (accounts.CanRefresh, the rule every face
// follows) and is not refreshing already.
func (r *Row) RefreshableNow() bool {
	return !r.Busy && !r.Queued && accounts.CanRefresh(r.Acct) == nil
}

// matches reports whether the row matches every word of a lower-case
// filter.
func (r *Row) matches(filter string) bool {
	for _, w := range strings.Fields(filter) {
		if !strings.Contains(r.search, w) {
			return false
		}
	}
	return true
}
