package ui

import (
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/list"
	"github.com/keyfob/keyfob/ui/present"
)

// Limits of background work.
const (
	maxInFlight = 6                // refreshes running at once
	backoffBase = 30 * time.Second // first auto-refresh retry after a failure
	backoffMax  = 30 * time.Minute
)

// refresher is the refresh queue: at most maxInFlight refreshes run, the
// rest wait; auto-refresh is planned for the next account due.
type refresher struct {
	inflight int
	queue    []queued
	nextDue  time.Time // no auto-refresh pass before this
	busy     int       // rows with a refresh in flight or queued
	batch    batchState
}

// queued is a refresh waiting for a slot.
type queued struct {
	id    string
	auto  bool
	batch int
}

// prune drops the queued refreshes of accounts no longer in l and counts
// the busy rows again.
func (q *refresher) prune(l *list.Model) {
	kept := q.queue[:0]
	for _, e := range q.queue {
		if l.Row(e.id) != nil {
			kept = append(kept, e)
		}
	}
	q.queue = kept
	q.busy = 0
	for _, r := range l.Rows() {
		if r.Busy || r.Queued {
			q.busy++
		}
	}
}

// anyRefreshable reports whether refresh-all has something to do. It
// stops at the first match, so it is cheap on every frame.
func (m *Model) anyRefreshable() bool {
	for _, r := range m.list.Rows() {
		if r.RefreshableNow() {
			return true
		}
	}
	return false
}

// refreshRows starts refreshes of rows; auto marks background refreshes,
// whose failures back off instead of interrupting the user.
func (m *Model) refreshRows(auto bool, rows ...*list.Row) tea.Cmd {
	return m.refreshBatch(auto, 0, rows...)
}

// refreshBatch is refreshRows for the refreshes of one refresh-all
// (batch > 0), which report once at the end instead of one by one.
func (m *Model) refreshBatch(auto bool, batch int, rows ...*list.Row) tea.Cmd {
	q := &m.refresh
	var cmds []tea.Cmd
	for _, r := range rows {
		if r.Busy || r.Queued {
			continue
		}
		if q.inflight >= maxInFlight {
			r.Queued = true
			q.queue = append(q.queue, queued{id: r.Acct.ID, auto: auto, batch: batch})
			q.busy++
			continue
		}
		cmds = append(cmds, m.startRefresh(r, auto, batch))
	}
	cmds = append(cmds, m.ensureSpinner())
	return tea.Batch(cmds...)
}

// startRefresh runs one refresh through the manager.
func (m *Model) startRefresh(r *list.Row, auto bool, batch int) tea.Cmd {
	q := &m.refresh
	if r.Queued {
		r.Queued = false
		q.busy--
	}
	r.Busy = true
	q.busy++
	q.inflight++
	mgr, ctx, seen := m.c.Manager, m.c.Ctx, r.Acct
	return func() tea.Msg {
		mode := accounts.Explicit
		if auto {
			mode = accounts.Automatic
		}
		got, err := mgr.Refresh(ctx, seen, mode)
		return refreshedMsg{id: seen.ID, got: got, err: err, auto: auto, batch: batch}
	}
}

// refreshAll refreshes every account that can be refreshed now.
func (m *Model) refreshAll() tea.Cmd {
	var rows []*list.Row
	skipped := 0
	for _, r := range m.list.Rows() {
		switch {
		case r.RefreshableNow():
			rows = append(rows, r)
		case !r.Busy && !r.Queued:
			skipped++
		}
	}
	if len(rows) == 0 {
		return m.setToast("nothing to refresh: no account has a usable refresh token", present.ToneWarn)
	}
	b := &m.refresh.batch
	*b = batchState{id: b.id + 1, total: len(rows), skipped: skipped}
	return tea.Batch(m.refreshBatch(false, b.id, rows...), m.setToast(b.progress(), present.ToneBusy))
}

// batchState follows one refresh-all.
type batchState struct {
	id                    int
	total, done, skipped  int
	failed                int
	firstFail, firstError string
}

func (b *batchState) progress() string {
	text := fmt.Sprintf("refreshing %s… %d done", present.Count(b.total, "account"), b.done)
	if b.skipped > 0 {
		text += fmt.Sprintf(" (%d skipped: revoked, login required or nothing to refresh with)", b.skipped)
	}
	return text
}

// summary is the toast at the end of a refresh-all.
func (b *batchState) summary() (string, present.Tone) {
	text := "refreshed " + present.Count(b.total, "account")
	tone := present.ToneOK
	if b.failed > 0 {
		text = fmt.Sprintf("refreshed %d of %s", b.done-b.failed, present.Count(b.total, "account"))
		text += fmt.Sprintf("; %s failed: %s", b.firstFail, b.firstError)
		if b.failed > 1 {
			text += fmt.Sprintf(" (and %d more — see their status)", b.failed-1)
		}
		tone = present.ToneDanger
	}
	if b.skipped > 0 {
		text += fmt.Sprintf("; %d skipped, which cannot be refreshed", b.skipped)
	}
	return text, tone
}

// onRefreshed records a refresh outcome and starts the next queued one.
func (m *Model) onRefreshed(msg refreshedMsg) tea.Cmd {
	q := &m.refresh
	q.inflight = max(q.inflight-1, 0)
	var cmds []tea.Cmd
	if r := m.list.Row(msg.id); r != nil {
		cmds = append(cmds, m.recordRefresh(r, msg))
	}
	for q.inflight < maxInFlight && len(q.queue) > 0 {
		e := q.queue[0]
		q.queue = q.queue[1:]
		if r := m.list.Row(e.id); r != nil && r.Queued {
			cmds = append(cmds, m.startRefresh(r, e.auto, e.batch))
		}
	}
	q.nextDue = time.Time{}
	return tea.Batch(cmds...)
}

// recordRefresh puts a refresh's outcome on its row and says what
// happened: at once, or at the end of the refresh-all it belongs to.
func (m *Model) recordRefresh(r *list.Row, msg refreshedMsg) tea.Cmd {
	q := &m.refresh
	if r.Busy {
		r.Busy = false
		q.busy--
	}
	if a := msg.got.Account; a.ID == r.Acct.ID && a.ID != "" {
		r.Set(a)
	}
	if c := oauth.RegionChangeOf(msg.got.Before, msg.got.Account); c.Changed() && msg.got.Before.ID != "" {
		text, tone := present.RegionNote(c)
		if c.Refused != nil {
			text += " (" + m.keys.Edit.Help().Key + " edits its region)"
		}
		m.heard.add(common.Notice{Text: r.Name() + ": " + text, Tone: tone})
	}
	if msg.err == nil && msg.got.Stale != nil {
		// An automatic refresh that failed, or was held back after a
		// failure, while the token still works: a failure all the same.
		msg.err = msg.got.Stale
	}
	inBatch := msg.batch != 0 && msg.batch == q.batch.id
	var cmd tea.Cmd
	switch {
	case msg.err == nil:
		r.Failures, r.RetryAt = 0, time.Time{}
		if !msg.auto && !inBatch {
			cmd = m.setToast(fmt.Sprintf("refreshed %s — valid for %s", r.Name(), validFor(r.Acct, m.clock())), present.ToneOK)
		}
	case inBatch:
		m.refreshFailed(r, msg, true)
		q.batch.failed++
		if q.batch.firstFail == "" {
			q.batch.firstFail, q.batch.firstError = r.Name(), msg.err.Error()
		}
	default:
		cmd = m.refreshFailed(r, msg, false)
	}
	if !inBatch {
		return cmd
	}
	q.batch.done++
	if q.batch.done == q.batch.total {
		text, tone := q.batch.summary()
		return m.setToast(text, tone)
	}
	if m.toast.tone == present.ToneBusy {
		m.toast.text = q.batch.progress()
	}
	return cmd
}

// refreshFailed backs off the account's auto-refresh and tells the user
// what happened and what to do (unless quiet: a refresh-all reports at the
// end).
func (m *Model) refreshFailed(r *list.Row, msg refreshedMsg, quiet bool) tea.Cmd {
	r.Failures++
	r.RetryAt = m.clock().Add(backoff(r.Failures))
	if at := msg.got.Account.RetryAt(); at.After(r.RetryAt) {
		// The store holds the account back longer (the server's
		// Retry-After): no refresh would reach the server before.
		r.RetryAt = at
	}
	var cannot *accounts.CannotRefreshError
	switch {
	case errors.As(msg.err, &cannot):
		// Another keyfob found the account dead first: show it as it is.
		a := r.Acct
		a.State = cannot.State
		r.Set(a)
		if quiet {
			return nil
		}
		tone := present.ToneWarn
		if cannot.State == accounts.StateLoginRequired {
			tone = present.ToneDanger
		}
		return m.setToast(m.cannotRefresh(r, cannot.State), tone)
	case errors.Is(msg.err, accounts.ErrLoginRequired):
		// The refresh token is dead: no amount of retrying helps.
		a := r.Acct
		a.State = accounts.StateLoginRequired
		r.Set(a)
		if quiet {
			return nil
		}
		return m.setToast(fmt.Sprintf("%s needs a new login: the server rejected its refresh token — press %s to sign in again", r.Name(), m.keys.New.Help().Key), present.ToneDanger)
	}
	if quiet || (msg.auto && r.Failures > 1) {
		// Repeated background failures show in the status column only.
		return nil
	}
	text := fmt.Sprintf("refreshing %s failed: %s", r.Name(), present.RefreshFailure(r.Acct.Name, msg.err))
	if msg.auto {
		text += fmt.Sprintf(" — retrying in %s", present.Approx(r.RetryAt.Sub(m.clock())))
	}
	return m.setToast(text, present.ToneDanger)
}

// cannotRefresh says why no refresh can help r, in state, and what does.
func (m *Model) cannotRefresh(r *list.Row, state accounts.State) string {
	n, i := m.keys.New.Help().Key, m.keys.Import.Help().Key
	switch state {
	case accounts.StateRevoked:
		return fmt.Sprintf("%s was revoked; sign in again with %s", r.Name(), n)
	case accounts.StateLoginRequired:
		return fmt.Sprintf("%s needs a new login: the server rejected its refresh token — press %s to sign in again", r.Name(), n)
	}
	return fmt.Sprintf("%s has no refresh token; sign in again with %s or import one with %s", r.Name(), n, i)
}

// backoff is the wait before the n-th retry: 30 s, 1 min, 2 min, … 30 min.
func backoff(n int) time.Duration {
	d := backoffBase
	for i := 1; i < n && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}

// autoRefresh starts refreshes of the accounts whose access token is
// within the margin, and plans when to look again.
func (m *Model) autoRefresh() tea.Cmd {
	margin := m.cfg.Margin()
	now := m.c.Now
	next := now.Add(24 * time.Hour)
	var due []*list.Row
	for _, r := range m.list.Rows() {
		if !autoCandidate(r) {
			continue
		}
		// Never more than half a token's life before its end: a token that
		// lives no longer than the margin would otherwise be due again at
		// once after every refresh.
		at := r.Acct.RefreshDue(margin)
		if r.RetryAt.After(at) {
			at = r.RetryAt
		}
		if !at.After(now) {
			if m.refresh.inflight+len(due) < maxInFlight {
				due = append(due, r)
				continue
			}
			at = now.Add(time.Second)
		}
		if at.Before(next) {
			next = at
		}
	}
	m.refresh.nextDue = next
	if len(due) == 0 {
		return nil
	}
	return m.refreshRows(true, due...)
}

// autoCandidate reports whether r may be refreshed in the background:
// never an account waiting for a new login (that would loop on the
// rejection), a revoked one, or one of unknown expiry.
func autoCandidate(r *list.Row) bool {
	return r.RefreshableNow() && !r.Acct.Expiry.IsZero()
}

// toggleAuto switches auto-refresh and saves the choice.
func (m *Model) toggleAuto() tea.Cmd {
	on := !m.cfg.AutoRefreshOn()
	m.cfg.AutoRefresh = &on
	m.refresh.nextDue = time.Time{}
	text := "auto-refresh off"
	if on {
		text = fmt.Sprintf("auto-refresh on: tokens are refreshed %s before they expire", present.Approx(m.cfg.Margin()))
	}
	return tea.Batch(m.setToast(text, present.ToneBusy), m.saveConfigCmd(func(c *accounts.Config) { c.AutoRefresh = &on }))
}

// validFor says how long an account's access token is good for.
func validFor(a accounts.Account, now time.Time) string {
	if a.Expiry.IsZero() {
		return "an unknown time"
	}
	return present.Approx(a.Expiry.Sub(now))
}
