package ui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
)

// watchEvery is how often the TUI looks at the store for changes other
// processes made.
const watchEvery = time.Second

// storeState is what the screen knows of the store.
type storeState struct {
	// w holds every account in memory and follows other processes'
	// changes; nil until the first read worked.
	w         *accounts.Watcher
	loaded    bool
	err       error // the store cannot be read
	reloading bool
	// selectAfter is an account just saved, selected once a reload shows
	// it.
	selectAfter string
}

// onTick advances the clock of the whole screen and, only when an
// auto-refresh is due, makes one pass over the accounts: nothing is
// allocated per account. A store that could not be read is tried again.
func (m *Model) onTick() tea.Cmd {
	m.c.Now = m.clock()
	cmds := []tea.Cmd{tickCmd()}
	s := &m.store
	if s.w == nil && s.err != nil && !s.reloading {
		s.reloading = true
		cmds = append(cmds, m.loadCmd())
	}
	cmds = append(cmds, m.autoRefresh())
	return tea.Batch(cmds...)
}

// loadCmd reads the accounts: the first time by starting the watcher
// (which reads the store), later from the watcher's memory.
func (m *Model) loadCmd() tea.Cmd {
	mgr, ctx, w := m.c.Manager, m.c.Ctx, m.store.w
	return func() tea.Msg {
		if w == nil {
			nw, err := mgr.Watch(ctx, watchEvery)
			if err != nil {
				return loadedMsg{err: err}
			}
			return loadedMsg{watcher: nw, accts: nw.Accounts(), consumers: nw.Consumers()}
		}
		return loadedMsg{accts: w.Accounts(), consumers: w.Consumers(), err: w.Err()}
	}
}

// waitCmd waits for other processes to change the store.
func waitCmd(ctx context.Context, w *accounts.Watcher) tea.Cmd {
	return func() tea.Msg {
		select {
		case <-w.Changed():
			return storeChangedMsg{}
		case <-ctx.Done():
			return nil
		}
	}
}

// onLoaded replaces the rows with what the store holds.
func (m *Model) onLoaded(msg loadedMsg) tea.Cmd {
	s := &m.store
	s.reloading = false
	var cmd tea.Cmd
	if msg.watcher != nil {
		if s.w != nil { // two first reads raced: keep one watcher
			msg.watcher.Close()
		} else {
			s.w = msg.watcher
			cmd = waitCmd(m.c.Ctx, s.w)
		}
	}
	s.err = msg.err
	if msg.err != nil && msg.accts == nil {
		return cmd
	}
	s.loaded = true
	m.consumers = msg.consumers
	m.setAccounts(msg.accts)
	m.sched.Replan() // with the new data
	return cmd
}

// onStoreChanged shows what other processes changed, and waits for more.
func (m *Model) onStoreChanged() tea.Cmd {
	if m.store.w == nil {
		return nil
	}
	return tea.Batch(m.loadCmd(), waitCmd(m.c.Ctx, m.store.w))
}

// setAccounts installs a new list of accounts, keeping the selection, or
// selecting an account just saved; refreshes waiting for an account that
// is gone are dropped.
func (m *Model) setAccounts(accts []accounts.Account) {
	m.list.SetAccounts(accts)
	m.sched.Keep(func(id string) bool { return m.list.Row(id) != nil })
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
	mgr, ctx := m.c.Manager, m.c.Ctx
	return func() tea.Msg {
		return configSavedMsg{err: mgr.UpdateConfig(ctx, change)}
	}
}
