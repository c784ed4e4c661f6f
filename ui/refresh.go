package ui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/present"
	"github.com/keyfob/keyfob/ui/refresh"
)

// refreshOne asks the scheduler for a refresh of a (the key r): it runs,
// waits for a slot, or, when no refresh can help, is not sent and the
// toast says what does.
func (m *Model) refreshOne(a accounts.Account) tea.Cmd {
	cmd, notice := m.sched.Refresh(a)
	return tea.Batch(cmd, m.notify(notice))
}

// refreshAll asks the scheduler to refresh every account that can be
// (the key R).
func (m *Model) refreshAll() tea.Cmd {
	cmd, notice := m.sched.RefreshAll(m.list.Accounts())
	return tea.Batch(cmd, m.notify(notice))
}

// autoRefresh lets the scheduler start the automatic refreshes that are
// due, when auto-refresh is on and the accounts are read. (Update starts
// the spinner after every message that set something to work.)
func (m *Model) autoRefresh() tea.Cmd {
	if !m.cfg.AutoRefreshOn() || !m.store.loaded || m.c.Now.Before(m.sched.NextDue()) {
		return nil
	}
	return m.sched.Tick(m.c.Now, m.cfg.Margin(), m.list.Accounts())
}

// onFinished shows a refresh that ended: the account as it is now, and
// what the scheduler says of it.
func (m *Model) onFinished(f refresh.Finished) tea.Cmd {
	if f.Account.ID != "" {
		m.list.SetAccount(f.Account)
	}
	if f.Region.Text != "" {
		m.heard.add(f.Region)
	}
	if f.Progress != "" && m.toast.text != "" && m.toast.tone == present.ToneBusy {
		m.toast.text = f.Progress
	}
	return tea.Batch(m.notify(f.Notice), m.showHeard())
}

// anyRefreshable reports whether refresh-all has something to do. It
// stops at the first match, so it is cheap on every frame.
func (m *Model) anyRefreshable() bool {
	for a := range m.list.Accounts() {
		if m.sched.CanStart(a) {
			return true
		}
	}
	return false
}

// toggleAuto switches auto-refresh and saves the choice.
func (m *Model) toggleAuto() tea.Cmd {
	on := !m.cfg.AutoRefreshOn()
	m.cfg.AutoRefresh = &on
	m.sched.Replan()
	text := "auto-refresh off"
	if on {
		text = fmt.Sprintf("auto-refresh on: tokens are refreshed %s before they expire", present.Approx(m.cfg.Margin()))
	}
	return tea.Batch(m.setToast(text, present.ToneBusy), m.saveConfigCmd(func(c *accounts.Config) { c.AutoRefresh = &on }))
}
