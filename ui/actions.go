package ui

import (
	"fmt"
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/themes"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/detail"
	"github.com/keyfob/keyfob/ui/dialog"
	"github.com/keyfob/keyfob/ui/list"
	"github.com/keyfob/keyfob/ui/present"
	"github.com/keyfob/keyfob/ui/wizard"
)

// updateScreen handles a key on the active screen: an open filter takes
// every key; then come the root's keys, the current account's, and the
// screen's own.
func (m *Model) updateScreen(msg tea.KeyPressMsg) tea.Cmd {
	if m.screen == screenList && m.list.Filtering() {
		_, cmd := m.list.Update(msg)
		return cmd
	}
	k := m.keyMap()
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		return m.push(dialog.NewHelp(m.c, m.fullHelp(), m.settings()), nil)
	case key.Matches(msg, k.New):
		return m.push(wizard.New(m.c, oauth.PurposeLogin), nil)
	case key.Matches(msg, k.Import):
		return m.push(wizard.New(m.c, oauth.PurposeImport), nil)
	case key.Matches(msg, k.RefreshAll):
		return m.refreshAll()
	case key.Matches(msg, k.AutoRefresh):
		return m.toggleAuto()
	case key.Matches(msg, k.Theme):
		return m.nextTheme()
	}
	if r := m.current(); r != nil {
		if cmd, ok := m.accountKey(msg, k, r.Account()); ok {
			return cmd
		}
	}
	var action common.Action
	var cmd tea.Cmd
	if m.screen == screenDetail {
		action, cmd = m.detail.Update(msg)
	} else {
		action, cmd = m.list.Update(msg)
	}
	switch a := action.(type) {
	case list.OpenDetail:
		m.screen = screenDetail
		m.detail.Show(a.ID)
		return tea.Batch(cmd, m.pairingCmd(a.ID))
	case detail.Back:
		m.screen = screenList
	case detail.RemoveConsumer:
		return tea.Batch(cmd, m.pickConsumer(a.ID))
	}
	return cmd
}

// current is the account the account keys act on: the one whose page is
// open, else the selected one.
func (m *Model) current() *list.Row {
	if m.screen == screenDetail {
		return m.list.Row(m.detail.ID())
	}
	return m.list.Selected()
}

// push opens a dialog on top, with the command that starts it.
func (m *Model) push(d dialog.Dialog, cmd tea.Cmd) tea.Cmd {
	m.dialogs.Push(d)
	return cmd
}

// settings are what the help screen says of the settings in force.
func (m *Model) settings() dialog.Settings {
	return dialog.Settings{
		AutoRefresh: m.cfg.AutoRefreshOn(), Margin: m.cfg.Margin(), BackoffMax: accounts.BackoffMax,
		Theme: m.theme.Name, ClearAfter: m.cfg.ClearAfter(),
	}
}

// accountKey handles the keys that act on one account, from the list or
// the detail page. It reports whether msg was one of them.
func (m *Model) accountKey(msg tea.KeyPressMsg, k KeyMap, a accounts.Account) (tea.Cmd, bool) {
	switch {
	case key.Matches(msg, k.Refresh):
		return m.refreshOne(a), true
	case key.Matches(msg, k.CopyAccess):
		return m.copyToken(a, false), true
	case key.Matches(msg, k.CopyRefresh):
		return m.copyToken(a, true), true
	case key.Matches(msg, k.Revoke):
		return m.push(dialog.NewRevoke(m.c, a, m.consumersOf(a.ID)...), nil), true
	case key.Matches(msg, k.Remove):
		return m.push(dialog.NewRemove(m.c, a), nil), true
	case key.Matches(msg, k.Rename):
		d, cmd := dialog.NewRename(m.c, a)
		return m.push(d, cmd), true
	case key.Matches(msg, k.Edit):
		d, cmd := dialog.NewEdit(m.c, a, m.c.Logins.Preset)
		return m.push(d, cmd), true
	}
	return m.explainDisabled(msg, k, a)
}

// explainDisabled says why an account key does nothing right now, instead
// of ignoring it silently. r on an account that no refresh can help asks
// the scheduler, which sends nothing and says what does.
func (m *Model) explainDisabled(msg tea.KeyPressMsg, k KeyMap, a accounts.Account) (tea.Cmd, bool) {
	switch {
	case common.Pressed(msg, k.CopyAccess):
		return m.copyToken(a, false), true
	case common.Pressed(msg, k.CopyRefresh):
		return m.copyToken(a, true), true
	case common.Pressed(msg, k.Refresh):
		return m.refreshOne(a), true
	case common.Pressed(msg, k.Revoke):
		return m.setToast(fmt.Sprintf("%s is already revoked and holds no token; %s removes it", present.OneLine(a.Name), k.Remove.Help().Key), present.ToneWarn), true
	}
	return nil, false
}

// act carries out what dialog d decided; a change to an account runs in
// the one place that runs them (see change).
func (m *Model) act(d dialog.Dialog, action common.Action) tea.Cmd {
	if cmd, ok := m.change(d, action); ok {
		return cmd
	}
	switch a := action.(type) {
	case dialog.Close:
		m.dialogs.Remove(d)
	case dialog.PickConsumer:
		return m.confirmConsumer(d, a.Consumer)
	case dialog.Copy:
		notice, cmd := m.clip.CopyText(a.What, a.Text)
		return tea.Batch(cmd, m.notify(notice))
	case dialog.Open:
		what, url := a.What, a.URL
		return func() tea.Msg { return openedMsg{what: what, err: oauth.OpenBrowser(url)} }
	case wizard.Saved:
		return m.onSaved(a)
	}
	return nil
}

// copyToken copies an account's access or refresh token, or says why
// there is none.
func (m *Model) copyToken(a accounts.Account, refresh bool) tea.Cmd {
	name := present.OneLine(a.Name)
	what, tok := "access token", a.AccessToken
	if refresh {
		what, tok = "refresh token", a.RefreshToken
	}
	if tok == "" {
		return m.setToast(fmt.Sprintf("%s has no %s; %s", name, what, m.noTokenHint(a, refresh)), present.ToneWarn)
	}
	notice, cmd := m.clip.CopySecret(what+" of "+name, tok, m.cfg.ClearAfter())
	return tea.Batch(cmd, m.notify(notice))
}

// noTokenHint says what gets an account a token it lacks: a refresh only
// where one can work now, else a new login.
func (m *Model) noTokenHint(a accounts.Account, refresh bool) string {
	n := m.keys.New.Help().Key
	switch {
	case refresh && a.UsesClientCredentials():
		return "it gets a new token from its client credentials instead"
	case refresh:
		return "sign in again with " + n
	case m.sched.CanStart(&a):
		return fmt.Sprintf("refresh it with %s or sign in again with %s", m.keys.Refresh.Help().Key, n)
	case m.sched.Job(a.ID) != common.NoJob:
		return "it is being refreshed; copy it once that is done"
	case a.State == accounts.StateRevoked:
		return "it was revoked; sign in again with " + n
	case a.State == accounts.StateLoginRequired:
		return "its refresh token was rejected; sign in again with " + n
	}
	return fmt.Sprintf("sign in again with %s or import a refresh token with %s", n, m.keys.Import.Help().Key)
}

// onSaved closes the wizard; the reload selects the new account.
func (m *Model) onSaved(s wizard.Saved) tea.Cmd {
	for _, d := range slices.Clone(m.dialogs.All()) {
		m.dialogs.Remove(d)
	}
	m.screen = screenList
	m.store.selectAfter = s.Account.ID
	who := present.Who(&s.Account)
	var text string
	switch {
	case s.Replaced && s.NameNotUsed != "":
		text = fmt.Sprintf("%s already existed, so it keeps its name rather than %s (%s renames it); its tokens were replaced with the new ones",
			who, present.OneLine(s.NameNotUsed), m.keys.Rename.Help().Key)
	case s.Replaced:
		text = fmt.Sprintf("%s already existed; its tokens were replaced with the new ones", who)
	case s.Imported:
		text = fmt.Sprintf("imported %s — the refresh token works and was rotated", who)
	default:
		text = fmt.Sprintf("signed in: %s saved", who)
	}
	tone := present.ToneOK
	if c := s.RegionChange; c.Changed() {
		// A shorter line (the name alone), so that the note is not cut.
		note, t := present.RegionNote(c)
		if c.Refused != nil {
			note += " (" + m.keys.Edit.Help().Key + " edits its region)"
		}
		name := present.OneLine(s.Account.Name)
		switch {
		case s.Imported && s.Replaced:
			text = name + " imported again"
		case s.Imported:
			text = name + " imported"
		case s.Replaced:
			text = name + " signed in again"
		default:
			text = name + " signed in"
		}
		text, tone = text+"; "+note, t
	}
	for _, n := range m.heard.take() {
		text += "; " + n.Text
		if n.Tone != present.ToneOK {
			tone = n.Tone
		}
	}
	return tea.Batch(m.setToast(text, tone), m.loadCmd())
}

// nextTheme switches to the next theme and saves it.
func (m *Model) nextTheme() tea.Cmd {
	m.theme = themes.Next(m.theme.Name)
	m.cfg.Theme = m.theme.Name
	m.applyStyles()
	name := m.theme.Name
	text := fmt.Sprintf("theme %s — %s", name, m.theme.Description)
	if m.noColor && !m.theme.Plain {
		text += " (colours are off: NO_COLOR is set)"
	}
	return tea.Batch(m.setToast(text, present.ToneBusy), m.saveConfigCmd(func(c *accounts.Config) { c.Theme = name }))
}
