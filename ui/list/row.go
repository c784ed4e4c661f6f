package list

import (
	"strings"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// Row is one account in the list: the account as last read or refreshed
// and the parts of its rendering that do not change every second. Rows
// are read-only outside the list, which replaces them when the accounts
// change (SetAccounts, SetAccount); what a refresh is doing for an account
// is the refresh scheduler's to say (common.Jobs), not the row's.
type Row struct {
	acct accounts.Account

	// Derived from acct, cleaned for the terminal.
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
	r.set(a)
	return r
}

// set replaces the row's account, recomputing what derives from it.
func (r *Row) set(a accounts.Account) {
	r.acct = a
	r.name = present.OneLine(a.Name)
	r.email = present.OneLine(a.Email)
	r.kind = present.KindRegion(&r.acct)
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

// Account is the row's account.
func (r *Row) Account() accounts.Account { return r.acct }

// ID is the account's id.
func (r *Row) ID() string { return r.acct.ID }

// Name is the account's name, safe for the terminal.
func (r *Row) Name() string { return r.name }

// Status is what the status column says of the row at now, given what the
// refresh scheduler is doing for it: a refresh under way or waiting, else
// the account's own status.
func (r *Row) Status(now time.Time, job common.Job) present.Status {
	switch job {
	case common.Refreshing:
		return present.Refreshing()
	case common.Queued:
		return present.Queued()
	}
	return present.StatusOf(&r.acct, now)
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
