package ui

import (
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/themes"
)

// revokeCmd revokes an account at its server through the manager.
func (m *Model) revokeCmd(id string, remove bool) tea.Cmd {
	r := m.rowByID(id)
	if r == nil {
		return nil
	}
	name := r.acct.Name
	mgr, ctx := m.mgr, m.ctx
	return tea.Batch(m.setToast("revoking "+name+"…", statusBusy), func() tea.Msg {
		rev, err := mgr.Revoke(ctx, id, remove)
		// The manager keeps an account whose revocation failed.
		removed := remove && rev.Outcome != "" && rev.Outcome != accounts.RevokeFailed
		return revokedMsg{id: id, name: name, removed: removed, rev: rev, err: err}
	})
}

// onRevoked tells the user honestly what the revocation did, at the
// server and locally; the reload shows the account as the manager left it.
func (m *Model) onRevoked(msg revokedMsg) tea.Cmd {
	m.toast = toast{}
	if msg.rev.Outcome == "" && msg.err != nil {
		// Nothing was asked: the account could not be found or locked.
		return m.setToast(fmt.Sprintf("could not revoke %s: %v", msg.name, msg.err), statusDanger)
	}
	return tea.Batch(m.pushModal(newRevokeResult(m, msg)), m.loadCmd())
}

// revocationReport is the explanation shown after a revocation: what the
// server did, then what keyfob did locally.
func revocationReport(msg revokedMsg) (title string, paras []string) {
	rev := msg.rev
	local := fmt.Sprintf("keyfob marked %s revoked; d removes it from the list.", msg.name)
	if msg.removed {
		local = fmt.Sprintf("keyfob removed %s from its store.", msg.name)
	}
	switch rev.Outcome {
	case accounts.RevokedAtServer:
		title = "Revoked " + msg.name + " at the server"
		detail := "The server confirmed the revocation."
		if rev.Detail != "" {
			detail = sentence(rev.Detail)
		}
		paras = append(paras, detail+" Whatever still uses those tokens stops working.")
	case accounts.RevokeUnsupported:
		title = msg.name + " revoked locally only"
		paras = append(paras, "Nothing was revoked at the server: its tokens stay valid until they expire.")
		if rev.Detail != "" && rev.ConsentURL == "" {
			paras = append(paras, sentence(rev.Detail))
		}
	default:
		title = "The server did not revoke " + msg.name
		detail := rev.Detail
		if detail == "" && msg.err != nil {
			detail = msg.err.Error()
		}
		paras = append(paras, sentence(detail)+" The tokens were kept, so x can try again.")
	}
	if localFailed(msg) {
		local = sentence(msg.err.Error())
	}
	paras = append(paras, local)
	if rev.ConsentURL != "" {
		paras = append(paras, "To withdraw the app's access at Tesla for good, open the consent page:")
	}
	return title, paras
}

// localFailed reports a revocation whose server part went as reported but
// whose store update failed (the manager then returns an error with an
// outcome other than failed).
func localFailed(msg revokedMsg) bool {
	return msg.err != nil && msg.rev.Outcome != accounts.RevokeFailed
}

// sentence makes a message fragment a sentence: capital first, full stop
// last.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// removeCmd forgets an account locally.
func (m *Model) removeCmd(id string) tea.Cmd {
	r := m.rowByID(id)
	if r == nil {
		return nil
	}
	name := r.acct.Name
	mgr, ctx := m.mgr, m.ctx
	return func() tea.Msg {
		return removedMsg{id: id, name: name, err: mgr.Remove(ctx, id)}
	}
}

func (m *Model) onRemoved(msg removedMsg) tea.Cmd {
	if msg.err != nil && !errors.Is(msg.err, accounts.ErrNotFound) {
		return m.setToast(fmt.Sprintf("could not remove %s: %v", msg.name, msg.err), statusDanger)
	}
	return tea.Batch(m.setToast(fmt.Sprintf("removed %s from keyfob", msg.name), statusOK), m.loadCmd())
}

// renameCmd renames an account.
func (m *Model) renameCmd(id, name string) tea.Cmd {
	r := m.rowByID(id)
	if r == nil {
		return nil
	}
	old := r.acct.Name
	mgr, ctx := m.mgr, m.ctx
	return func() tea.Msg {
		a, err := mgr.Rename(ctx, id, name)
		return renamedMsg{id: id, old: old, acct: a, err: err}
	}
}

func (m *Model) onRenamed(msg renamedMsg) tea.Cmd {
	if msg.err != nil {
		if n := len(m.modals); n > 0 {
			if d, ok := m.modals[n-1].(*renameDialog); ok {
				d.fail(msg.err)
				return nil
			}
		}
		return m.setToast(fmt.Sprintf("could not rename %s: %v", msg.old, msg.err), statusDanger)
	}
	if n := len(m.modals); n > 0 {
		if _, ok := m.modals[n-1].(*renameDialog); ok {
			m.popModal()
		}
	}
	return tea.Batch(m.setToast(fmt.Sprintf("renamed %s to %s", msg.old, msg.acct.Name), statusOK), m.loadCmd())
}

// onSaved closes the wizard; the reload selects the new account.
func (m *Model) onSaved(msg accountSavedMsg) tea.Cmd {
	for len(m.modals) > 0 {
		m.popModal()
	}
	m.screen = screenList
	m.selectAfterLoad = msg.acct.ID
	var text string
	switch {
	case msg.replaced:
		text = fmt.Sprintf("%s already existed; its tokens were replaced with the new ones", who(msg.acct))
	case msg.imported:
		text = fmt.Sprintf("imported %s — the refresh token works and was rotated", who(msg.acct))
	default:
		text = fmt.Sprintf("signed in: %s saved", who(msg.acct))
	}
	return tea.Batch(m.setToast(text, statusOK), m.loadCmd())
}

// saveConfigCmd changes the settings file: read, change, write, so that
// settings changed elsewhere are kept.
func (m *Model) saveConfigCmd(change func(*accounts.Config)) tea.Cmd {
	store := m.mgr.Store
	return func() tea.Msg {
		c, err := store.LoadConfig()
		if err != nil {
			return configSavedMsg{err: err}
		}
		change(&c)
		return configSavedMsg{err: store.SaveConfig(c)}
	}
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
	return tea.Batch(m.setToast(text, statusBusy), m.saveConfigCmd(func(c *accounts.Config) { c.Theme = name }))
}

// openURLCmd opens a URL in the user's browser.
func openURLCmd(what, url string) tea.Cmd {
	return func() tea.Msg {
		return openedMsg{what: what, err: oauth.OpenBrowser(url)}
	}
}
