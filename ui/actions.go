package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/edit"
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
		if cmd, ok := m.accountKey(msg, k, r); ok {
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
		AutoRefresh: m.cfg.AutoRefreshOn(), Margin: m.cfg.Margin(), BackoffMax: backoffMax,
		Theme: m.theme.Name, ClearAfter: m.cfg.ClearAfter(),
	}
}

// accountKey handles the keys that act on one account, from the list or
// the detail page. It reports whether msg was one of them.
func (m *Model) accountKey(msg tea.KeyPressMsg, k KeyMap, r *list.Row) (tea.Cmd, bool) {
	switch {
	case key.Matches(msg, k.Refresh):
		return m.refreshRows(false, r), true
	case key.Matches(msg, k.CopyAccess):
		return m.copyToken(r, false), true
	case key.Matches(msg, k.CopyRefresh):
		return m.copyToken(r, true), true
	case key.Matches(msg, k.Revoke):
		return m.push(dialog.NewRevoke(m.c, r.Acct, m.consumersOf(r.Acct.ID)...), nil), true
	case key.Matches(msg, k.Remove):
		return m.push(dialog.NewRemove(m.c, r.Acct), nil), true
	case key.Matches(msg, k.Rename):
		d, cmd := dialog.NewRename(m.c, r.Acct)
		return m.push(d, cmd), true
	case key.Matches(msg, k.Edit):
		d, cmd := dialog.NewEdit(m.c, r.Acct, m.c.Logins.Preset)
		return m.push(d, cmd), true
	}
	return m.explainDisabled(msg, k, r)
}

// explainDisabled says why an account key does nothing right now, instead
// of ignoring it silently.
func (m *Model) explainDisabled(msg tea.KeyPressMsg, k KeyMap, r *list.Row) (tea.Cmd, bool) {
	switch {
	case common.Pressed(msg, k.CopyAccess):
		return m.copyToken(r, false), true
	case common.Pressed(msg, k.CopyRefresh):
		return m.copyToken(r, true), true
	case common.Pressed(msg, k.Refresh) && !r.Busy && !r.Queued:
		state := accounts.StateActive
		var cannot *accounts.CannotRefreshError
		if errors.As(accounts.CanRefresh(r.Acct), &cannot) {
			state = cannot.State
		}
		return m.setToast(m.cannotRefresh(r, state), present.ToneWarn), true
	case common.Pressed(msg, k.Revoke):
		return m.setToast(fmt.Sprintf("%s is already revoked and holds no token; %s removes it", r.Name(), k.Remove.Help().Key), present.ToneWarn), true
	}
	return nil, false
}

// act carries out what dialog d decided.
func (m *Model) act(d dialog.Dialog, action common.Action) tea.Cmd {
	switch a := action.(type) {
	case dialog.Close:
		m.dialogs.Remove(d)
	case dialog.Revoke:
		m.dialogs.Remove(d)
		return m.revokeCmd(a.ID, a.Name, a.Remove)
	case dialog.Remove:
		m.dialogs.Remove(d)
		return m.removeCmd(a.ID, a.Name)
	case dialog.PickConsumer:
		return m.confirmConsumer(d, a.Consumer)
	case dialog.RemoveConsumer:
		m.dialogs.Remove(d)
		return m.removeConsumerCmd(a.Name)
	case dialog.Renamed:
		m.dialogs.Remove(d)
		return tea.Batch(m.setToast(fmt.Sprintf("renamed %s to %s", present.OneLine(a.Old), present.OneLine(a.Account.Name)), present.ToneOK), m.loadCmd())
	case dialog.Edited:
		m.dialogs.Remove(d)
		return tea.Batch(m.setToast(editedText(a), present.ToneOK), m.loadCmd())
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
func (m *Model) copyToken(r *list.Row, refresh bool) tea.Cmd {
	what, tok := "access token", r.Acct.AccessToken
	if refresh {
		what, tok = "refresh token", r.Acct.RefreshToken
	}
	if tok == "" {
		return m.setToast(fmt.Sprintf("%s has no %s; %s", r.Name(), what, m.noTokenHint(r, refresh)), present.ToneWarn)
	}
	notice, cmd := m.clip.CopySecret(what+" of "+r.Name(), tok, m.cfg.ClearAfter())
	return tea.Batch(cmd, m.notify(notice))
}

// noTokenHint says what gets an account a token it lacks: a refresh only
// where one can work now, else a new login.
func (m *Model) noTokenHint(r *list.Row, refresh bool) string {
	n := m.keys.New.Help().Key
	switch {
	case refresh && r.Acct.UsesClientCredentials():
		return "it gets a new token from its client credentials instead"
	case refresh:
		return "sign in again with " + n
	case r.RefreshableNow():
		return fmt.Sprintf("refresh it with %s or sign in again with %s", m.keys.Refresh.Help().Key, n)
	case r.Busy || r.Queued:
		return "it is being refreshed; copy it once that is done"
	case r.Acct.State == accounts.StateRevoked:
		return "it was revoked; sign in again with " + n
	case r.Acct.State == accounts.StateLoginRequired:
		return "its refresh token was rejected; sign in again with " + n
	}
	return fmt.Sprintf("sign in again with %s or import a refresh token with %s", n, m.keys.Import.Help().Key)
}

// revokeCmd revokes an account at its server through the manager. An
// account that another keyfob removed meanwhile is asked for all the same,
// so that the answer says so.
func (m *Model) revokeCmd(id, name string, remove bool) tea.Cmd {
	mgr, ctx := m.c.Manager, m.c.Ctx
	return tea.Batch(m.setToast("revoking "+name+"…", present.ToneBusy), func() tea.Msg {
		rev, err := mgr.Revoke(ctx, id, accounts.RevokeOptions{Remove: remove})
		return revokedMsg{id: id, name: name, removed: rev.Removed, rev: rev, err: err}
	})
}

// onRevoked tells the user honestly what the revocation did, at the
// server and locally; the reload shows the account as the manager left it.
func (m *Model) onRevoked(msg revokedMsg) tea.Cmd {
	m.toast.text = ""
	if msg.rev.Outcome == "" && msg.err != nil {
		// Nothing was asked: the account could not be found or locked.
		if errors.Is(msg.err, accounts.ErrNotFound) {
			return tea.Batch(m.setToast(fmt.Sprintf("could not revoke %s: it is no longer in the store", msg.name), present.ToneDanger), m.loadCmd())
		}
		return m.setToast(fmt.Sprintf("could not revoke %s: %v", msg.name, msg.err), present.ToneDanger)
	}
	d := dialog.NewRevokeResult(m.c, dialog.Revocation{Name: msg.name, Removed: msg.removed, Rev: msg.rev.Revocation, Err: msg.err})
	return tea.Batch(m.push(d, nil), m.loadCmd())
}

// removeCmd forgets an account locally (also when another keyfob did
// first: the reload shows it gone either way).
func (m *Model) removeCmd(id, name string) tea.Cmd {
	mgr, ctx := m.c.Manager, m.c.Ctx
	return func() tea.Msg {
		_, err := mgr.Remove(ctx, id)
		return removedMsg{id: id, name: name, err: err}
	}
}

func (m *Model) onRemoved(msg removedMsg) tea.Cmd {
	switch {
	case errors.Is(msg.err, accounts.ErrNotFound):
		return tea.Batch(m.setToast(fmt.Sprintf("%s was no longer in keyfob: another keyfob removed it", msg.name), present.ToneWarn), m.loadCmd())
	case msg.err != nil:
		return m.setToast(fmt.Sprintf("could not remove %s: %v", msg.name, msg.err), present.ToneDanger)
	}
	return tea.Batch(m.setToast(fmt.Sprintf("removed %s from keyfob", msg.name), present.ToneOK), m.loadCmd())
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

// editedText sums an edit up for the toast: what changed, old → new.
func editedText(e dialog.Edited) string {
	var parts []string
	for _, c := range edit.Diff(e.Before, e.After) {
		parts = append(parts, fmt.Sprintf("%s %s → %s", c.Field.Label(), orNone(c.Old), orNone(c.New)))
	}
	text := fmt.Sprintf("edited %s, tokens kept: %s", e.After.Name, strings.Join(parts, "; "))
	if len(parts) == 0 {
		text = fmt.Sprintf("%s already had those settings", e.After.Name)
	}
	for _, n := range e.Notes {
		text += "; " + n
	}
	return present.OneLine(text)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
