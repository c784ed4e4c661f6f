package ui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
)

// storeState is what the screen knows of the store.
type storeState struct {
	loaded    bool
	err       error  // the store cannot be read
	stamp     string // the store's stamp at the last read
	reloading bool
	watching  bool // a look at the store's stamp is under way
	// selectAfter is an account just saved, selected once a reload shows
	// it.
	selectAfter string
}

// onTick advances the clock of the whole screen. It starts a look at the
// store's stamp (in a command: Update never touches the disk) and, only
// when an auto-refresh is due, makes one pass over the accounts: nothing is
// allocated per account.
func (m *Model) onTick() tea.Cmd {
	m.c.Now = m.clock()
	cmds := []tea.Cmd{tickCmd()}
	s := &m.store
	if s.loaded && !s.reloading && !s.watching {
		s.watching = true
		cmds = append(cmds, m.watchCmd())
	}
	if m.cfg.AutoRefreshOn() && s.loaded && !m.c.Now.Before(m.refresh.nextDue) {
		cmds = append(cmds, m.autoRefresh())
	}
	return tea.Batch(cmds...)
}

// watchCmd reads the store's stamp, so that writes by other processes
// (keyfob token in cron) show up within a tick or two.
func (m *Model) watchCmd() tea.Cmd {
	store := m.c.Manager.Store
	return func() tea.Msg { return stampMsg{stamp: store.Stamp()} }
}

// onStamp reloads the store when another process changed it.
func (m *Model) onStamp(msg stampMsg) tea.Cmd {
	s := &m.store
	s.watching = false
	if !s.loaded || s.reloading || msg.stamp == s.stamp {
		return nil
	}
	s.reloading = true
	return m.loadCmd()
}

// loadCmd reads the store. The stamp is taken first, so a write that lands
// during the read is seen again on the next tick rather than missed.
func (m *Model) loadCmd() tea.Cmd {
	mgr := m.c.Manager
	return func() tea.Msg {
		stamp := mgr.Store.Stamp()
		f, err := mgr.Store.Load()
		if err != nil {
			return loadedMsg{stamp: stamp, err: err}
		}
		return loadedMsg{accts: f.Accounts, consumers: f.Consumers, stamp: stamp}
	}
}

// onLoaded replaces the rows with what the store holds.
func (m *Model) onLoaded(msg loadedMsg) tea.Cmd {
	s := &m.store
	s.reloading = false
	s.loaded = true
	s.stamp = msg.stamp
	s.err = msg.err
	if msg.err != nil {
		return nil
	}
	m.consumers = msg.consumers
	m.setAccounts(msg.accts)
	m.refresh.nextDue = time.Time{} // re-plan the auto-refresh with the new data
	return nil
}

// setAccounts installs a new list of accounts, keeping each row's refresh
// state and the selection, or selecting an account just saved.
func (m *Model) setAccounts(accts []accounts.Account) {
	m.list.SetAccounts(accts)
	m.refresh.prune(m.list)
	if id := m.store.selectAfter; id != "" && m.list.Select(id) {
		m.store.selectAfter = ""
	}
	if m.screen == screenDetail && m.list.Row(m.detail.ID()) == nil {
		m.screen = screenList
	}
}

// saveConfigCmd changes the settings file: read, change, write under the
// settings' lock, so that settings changed elsewhere are kept.
func (m *Model) saveConfigCmd(change func(*accounts.Config)) tea.Cmd {
	store, ctx := m.c.Manager.Store, m.c.Ctx
	return func() tea.Msg {
		return configSavedMsg{err: store.UpdateConfig(ctx, change)}
	}
}
