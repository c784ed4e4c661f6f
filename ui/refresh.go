package ui

import (
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
)

// onTick advances the clock of the whole screen. It starts a look at the
// store's stamp (in a command: Update never touches the disk) and, only
// when an auto-refresh is due, makes one pass over the accounts: nothing is
// allocated per account.
func (m *Model) onTick() tea.Cmd {
	m.now = m.clock()
	cmds := []tea.Cmd{m.tickCmd()}
	if m.loaded && !m.reloading && !m.watching {
		m.watching = true
		cmds = append(cmds, m.watchCmd())
	}
	if m.cfg.AutoRefreshOn() && m.loaded && !m.now.Before(m.nextDue) {
		cmds = append(cmds, m.autoRefresh())
	}
	return tea.Batch(cmds...)
}

// watchCmd reads the store's stamp, so that writes by other processes
// (keyfob token in cron) show up within a tick or two.
func (m *Model) watchCmd() tea.Cmd {
	store := m.mgr.Store
	return func() tea.Msg { return stampMsg{stamp: store.Stamp()} }
}

// onStamp reloads the store when another process changed it.
func (m *Model) onStamp(msg stampMsg) tea.Cmd {
	m.watching = false
	if !m.loaded || m.reloading || msg.stamp == m.stamp {
		return nil
	}
	m.reloading = true
	return m.loadCmd()
}

// loadCmd reads the store. The stamp is taken first, so a write that lands
// during the read is seen again on the next tick rather than missed.
func (m *Model) loadCmd() tea.Cmd {
	mgr := m.mgr
	return func() tea.Msg {
		stamp := mgr.Store.Stamp()
		accts, err := mgr.List()
		return loadedMsg{accts: accts, stamp: stamp, err: err}
	}
}

// onLoaded replaces the rows with what the store holds.
func (m *Model) onLoaded(msg loadedMsg) tea.Cmd {
	m.reloading = false
	m.loaded = true
	m.stamp = msg.stamp
	m.loadErr = msg.err
	if msg.err != nil {
		return nil
	}
	m.setAccounts(msg.accts)
	m.nextDue = time.Time{} // re-plan the auto-refresh with the new data
	return nil
}

// setAccounts installs a new list of accounts, keeping each row's
// transient state and the selection, or selecting an account just saved.
func (m *Model) setAccounts(accts []accounts.Account) {
	selID := ""
	if r := m.selected(); r != nil {
		selID = r.acct.ID
	}
	rows := make([]*row, len(accts))
	byID := make(map[string]int, len(accts))
	for i, a := range accts {
		r := m.rowByID(a.ID)
		if r == nil {
			r = newRow(a)
		} else {
			r.acct = a
			r.refreshDerived()
		}
		rows[i] = r
		byID[a.ID] = i
	}
	m.rows, m.byID = rows, byID
	// Queued refreshes of removed accounts are dropped.
	q := m.queue[:0]
	for _, e := range m.queue {
		if _, ok := byID[e.id]; ok {
			q = append(q, e)
		}
	}
	m.queue = q
	m.recountBusy()
	if r := m.rowByID(m.selectAfterLoad); r != nil {
		selID, m.selectAfterLoad = r.acct.ID, ""
		if m.query != "" && !r.matches(m.query) {
			m.query = ""
			m.filter.SetValue("")
		}
	}
	m.filterKeeping(selID)
	if m.screen == screenDetail && m.rowByID(m.detail.id) == nil {
		m.screen = screenList
	}
}

func (m *Model) recountBusy() {
	n := 0
	for _, r := range m.rows {
		if r.busy || r.queued {
			n++
		}
	}
	m.busy = n
}

// refreshRows starts refreshes of rows, at most maxInFlight at once; the
// rest wait in a queue. auto marks background refreshes, whose failures
// back off instead of interrupting the user.
func (m *Model) refreshRows(auto bool, rows ...*row) tea.Cmd {
	return m.refreshBatch(auto, 0, rows...)
}

// refreshBatch is refreshRows for the refreshes of one refresh-all
// (batch > 0), which report once at the end instead of one by one.
func (m *Model) refreshBatch(auto bool, batch int, rows ...*row) tea.Cmd {
	var cmds []tea.Cmd
	for _, r := range rows {
		if r.busy || r.queued {
			continue
		}
		if m.inflight >= maxInFlight {
			r.queued = true
			m.queue = append(m.queue, queued{id: r.acct.ID, auto: auto, batch: batch})
			m.busy++
			continue
		}
		cmds = append(cmds, m.startRefresh(r, auto, batch))
	}
	cmds = append(cmds, m.ensureSpinner())
	return tea.Batch(cmds...)
}

// startRefresh runs one refresh through the manager.
func (m *Model) startRefresh(r *row, auto bool, batch int) tea.Cmd {
	if r.queued {
		r.queued = false
		m.busy--
	}
	r.busy = true
	m.busy++
	m.inflight++
	mgr, ctx, seen := m.mgr, m.ctx, r.acct
	return func() tea.Msg {
		got, err := mgr.Refresh(ctx, seen)
		return refreshedMsg{id: seen.ID, acct: got, err: err, auto: auto, batch: batch}
	}
}

// refreshAll refreshes every account that can be refreshed now.
func (m *Model) refreshAll() tea.Cmd {
	var rows []*row
	skipped := 0
	for _, r := range m.rows {
		switch {
		case refreshableNow(r):
			rows = append(rows, r)
		case !r.busy && !r.queued:
			skipped++
		}
	}
	if len(rows) == 0 {
		return m.setToast("nothing to refresh: no account has a usable refresh token", statusWarn)
	}
	m.batch = batchState{id: m.batch.id + 1, total: len(rows), skipped: skipped}
	return tea.Batch(m.refreshBatch(false, m.batch.id, rows...), m.setToast(m.batch.progress(), statusBusy))
}

// batchState follows one refresh-all.
type batchState struct {
	id                    int
	total, done, skipped  int
	failed                int
	firstFail, firstError string
}

func (b *batchState) progress() string {
	text := fmt.Sprintf("refreshing %d accounts… %d done", b.total, b.done)
	if b.skipped > 0 {
		text += fmt.Sprintf(" (%d skipped: revoked, login required or nothing to refresh with)", b.skipped)
	}
	return text
}

// summary is the toast at the end of a refresh-all.
func (b *batchState) summary() (string, statusKind) {
	text := fmt.Sprintf("refreshed %d of %d accounts", b.done-b.failed, b.total)
	kind := statusOK
	if b.failed > 0 {
		text += fmt.Sprintf("; %s failed: %s", b.firstFail, b.firstError)
		if b.failed > 1 {
			text += fmt.Sprintf(" (and %d more — see their status)", b.failed-1)
		}
		kind = statusDanger
	}
	if b.skipped > 0 {
		text += fmt.Sprintf("; %d skipped", b.skipped)
	}
	return text, kind
}

// onRefreshed records a refresh outcome and starts the next queued one.
func (m *Model) onRefreshed(msg refreshedMsg) tea.Cmd {
	m.inflight = max(m.inflight-1, 0)
	var cmds []tea.Cmd
	if r := m.rowByID(msg.id); r != nil {
		if r.busy {
			r.busy = false
			m.busy--
		}
		if msg.acct.ID == r.acct.ID && msg.acct.ID != "" {
			r.acct = msg.acct
			r.refreshDerived()
		}
		inBatch := msg.batch != 0 && msg.batch == m.batch.id
		switch {
		case msg.err == nil:
			r.failures, r.retryAt = 0, time.Time{}
			if !msg.auto && !inBatch {
				cmds = append(cmds, m.setToast(fmt.Sprintf("refreshed %s — valid for %s", r.acct.Name, validFor(r.acct, m.clock())), statusOK))
			}
		case inBatch:
			m.refreshFailed(r, msg, true)
			m.batch.failed++
			if m.batch.firstFail == "" {
				m.batch.firstFail, m.batch.firstError = r.acct.Name, msg.err.Error()
			}
		default:
			cmds = append(cmds, m.refreshFailed(r, msg, false))
		}
		if inBatch {
			m.batch.done++
			if m.batch.done == m.batch.total {
				text, kind := m.batch.summary()
				cmds = append(cmds, m.setToast(text, kind))
			} else if m.toast.kind == statusBusy {
				m.toast.text = m.batch.progress()
			}
		}
	}
	for m.inflight < maxInFlight && len(m.queue) > 0 {
		e := m.queue[0]
		m.queue = m.queue[1:]
		if r := m.rowByID(e.id); r != nil && r.queued {
			cmds = append(cmds, m.startRefresh(r, e.auto, e.batch))
		}
	}
	m.nextDue = time.Time{}
	return tea.Batch(cmds...)
}

// refreshFailed backs off the account's auto-refresh and tells the user
// what happened and what to do (unless quiet: a refresh-all reports at the
// end).
func (m *Model) refreshFailed(r *row, msg refreshedMsg, quiet bool) tea.Cmd {
	now := m.clock()
	r.failures++
	r.retryAt = now.Add(backoff(r.failures))
	if errors.Is(msg.err, accounts.ErrLoginRequired) {
		// The refresh token is dead: no amount of retrying helps.
		r.acct.State = accounts.StateLoginRequired
		r.refreshDerived()
		if quiet {
			return nil
		}
		return m.setToast(fmt.Sprintf("%s needs a new login: the server rejected its refresh token — press n to sign in again", r.acct.Name), statusDanger)
	}
	if quiet || (msg.auto && r.failures > 1) {
		// Repeated background failures show in the status column only.
		return nil
	}
	text := fmt.Sprintf("refreshing %s failed: %v", r.acct.Name, msg.err)
	if msg.auto {
		text += fmt.Sprintf(" — retrying in %s", approx(backoff(r.failures)))
	}
	return m.setToast(text, statusDanger)
}

// queued is a refresh waiting for a slot.
type queued struct {
	id    string
	auto  bool
	batch int
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
	now := m.now
	next := now.Add(24 * time.Hour)
	var due []*row
	for _, r := range m.rows {
		if !autoCandidate(r) {
			continue
		}
		at := r.acct.Expiry.Add(-margin)
		if r.retryAt.After(at) {
			at = r.retryAt
		}
		if !at.After(now) {
			if m.inflight+len(due) < maxInFlight {
				due = append(due, r)
				continue
			}
			at = now.Add(time.Second)
		}
		if at.Before(next) {
			next = at
		}
	}
	m.nextDue = next
	if len(due) == 0 {
		return nil
	}
	return m.refreshRows(true, due...)
}

// autoCandidate reports whether r may be refreshed in the background:
// never an account waiting for a new login (that would loop on the
// rejection), a revoked one, or one of unknown expiry.
func autoCandidate(r *row) bool {
	return refreshableNow(r) && !r.acct.Expiry.IsZero() && r.acct.State != accounts.StateLoginRequired
}

// toggleAuto switches auto-refresh and saves the choice.
func (m *Model) toggleAuto() tea.Cmd {
	on := !m.cfg.AutoRefreshOn()
	m.cfg.AutoRefresh = &on
	m.nextDue = time.Time{}
	text := "auto-refresh off"
	if on {
		text = fmt.Sprintf("auto-refresh on: tokens are refreshed %s before they expire", approx(m.cfg.Margin()))
	}
	return tea.Batch(m.setToast(text, statusBusy), m.saveConfigCmd(func(c *accounts.Config) { c.AutoRefresh = &on }))
}

// validFor says how long an account's access token is good for.
func validFor(a accounts.Account, now time.Time) string {
	if a.Expiry.IsZero() {
		return "an unknown time"
	}
	return approx(a.Expiry.Sub(now))
}
