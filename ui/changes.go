package ui

import (
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/edit"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/dialog"
	"github.com/keyfob/keyfob/ui/present"
)

// Every change to an account that the user decides in a dialog (rename,
// edit, revoke, remove, remove a consumer) runs here, in one place: as a
// command through the manager, whose outcome comes back as a changedMsg.
// Refreshes are the scheduler's (ui/refresh) and sign-ins the wizard's,
// through oauth.Logins.

// changedMsg is the outcome of one account change.
type changedMsg struct {
	// from is the dialog that decided the change; a rename or an edit
	// stays open until the answer.
	from dialog.Dialog
	// change is the decision: dialog.SaveName, SaveEdit, Revoke, Remove
	// or RemoveConsumer.
	change common.Action

	before, after accounts.Account
	notes         []string // what a new region did not move (an edit)
	rev           accounts.Revoked
	err           error
}

// change runs the change that dialog from decided, or reports false when
// the decision changes no account.
func (m *Model) change(from dialog.Dialog, decision common.Action) (tea.Cmd, bool) {
	mgr, ctx := m.c.Manager, m.c.Ctx
	run := func(do func(*changedMsg)) tea.Cmd {
		return func() tea.Msg {
			msg := changedMsg{from: from, change: decision}
			do(&msg)
			return msg
		}
	}
	switch d := decision.(type) {
	case dialog.SaveName:
		return run(func(msg *changedMsg) { msg.after, msg.err = mgr.Rename(ctx, d.ID, d.Name) }), true
	case dialog.SaveEdit:
		return run(func(msg *changedMsg) {
			msg.before, msg.after, msg.err = mgr.Edit(ctx, d.ID, func(a *accounts.Account) error {
				var err error
				msg.notes, err = edit.Apply(a, d.Changes, d.Presets, d.Consent)
				return err
			})
		}), true
	case dialog.Revoke:
		m.dialogs.Remove(from)
		// An account that another keyfob removed meanwhile is asked for
		// all the same, so that the answer says so.
		return tea.Batch(m.setToast("revoking "+d.Name+"…", present.ToneBusy), run(func(msg *changedMsg) {
			msg.rev, msg.err = mgr.Revoke(ctx, d.ID, accounts.RevokeOptions{Remove: d.Remove})
		})), true
	case dialog.Remove:
		m.dialogs.Remove(from)
		return run(func(msg *changedMsg) {
			var r accounts.Removed
			r, msg.err = mgr.Remove(ctx, d.ID)
			msg.before = r.Account
		}), true
	case dialog.RemoveConsumer:
		m.dialogs.Remove(from)
		return run(func(msg *changedMsg) { _, msg.err = mgr.RemoveConsumer(ctx, d.Name) }), true
	}
	return nil, false
}

// onChanged shows what a change did. A rename or an edit the manager
// refused goes back to its dialog, which stays open and says why.
func (m *Model) onChanged(msg changedMsg) tea.Cmd {
	if msg.err != nil && m.dialogs.Has(msg.from) {
		switch msg.change.(type) {
		case dialog.SaveName, dialog.SaveEdit:
			return m.updateDialog(msg.from, dialog.Refused{Err: msg.err})
		}
	}
	switch d := msg.change.(type) {
	case dialog.SaveName:
		return m.saved(msg, fmt.Sprintf("renamed %s to %s", present.OneLine(d.Old), present.OneLine(msg.after.Name)))
	case dialog.SaveEdit:
		return m.saved(msg, editedText(msg.before, msg.after, msg.notes))
	case dialog.Revoke:
		return m.onRevoked(d, msg)
	case dialog.Remove:
		return m.onRemoved(d, msg.err)
	case dialog.RemoveConsumer:
		return m.onConsumerRemoved(d.Name, msg.err)
	}
	return nil
}

// saved closes the dialog of a rename or an edit that the manager made,
// shows the account as it is now and says what changed. (A dialog closed
// meanwhile, by a new sign-in, loses its error: the toast says it.)
func (m *Model) saved(msg changedMsg, text string) tea.Cmd {
	if msg.err != nil {
		return m.setToast("nothing was changed: "+msg.err.Error(), present.ToneDanger)
	}
	m.dialogs.Remove(msg.from)
	m.list.SetAccount(msg.after)
	return m.setToast(text, present.ToneOK)
}

// onRevoked tells the user honestly what the revocation did, at the
// server and locally; the reload shows the account as the manager left it.
func (m *Model) onRevoked(d dialog.Revoke, msg changedMsg) tea.Cmd {
	m.toast.text = ""
	if msg.rev.Outcome == "" && msg.err != nil {
		// Nothing was asked: the account could not be found or locked.
		if errors.Is(msg.err, accounts.ErrNotFound) {
			return tea.Batch(m.setToast(fmt.Sprintf("could not revoke %s: it is no longer in the store", d.Name), present.ToneDanger), m.loadCmd())
		}
		return m.setToast(fmt.Sprintf("could not revoke %s: %v", d.Name, msg.err), present.ToneDanger)
	}
	r := dialog.NewRevokeResult(m.c, dialog.Revocation{Name: d.Name, Removed: msg.rev.Removed, Rev: msg.rev.Revocation, Err: msg.err})
	return tea.Batch(m.push(r, nil), m.loadCmd())
}

// onRemoved says whether the account was removed (also when another
// keyfob did first: the reload shows it gone either way).
func (m *Model) onRemoved(d dialog.Remove, err error) tea.Cmd {
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		return tea.Batch(m.setToast(fmt.Sprintf("%s was no longer in keyfob: another keyfob removed it", d.Name), present.ToneWarn), m.loadCmd())
	case err != nil:
		return m.setToast(fmt.Sprintf("could not remove %s: %v", d.Name, err), present.ToneDanger)
	}
	return tea.Batch(m.setToast(fmt.Sprintf("removed %s from keyfob", d.Name), present.ToneOK), m.loadCmd())
}

// onConsumerRemoved says whether the consumer of keyfob serve is gone.
func (m *Model) onConsumerRemoved(name string, err error) tea.Cmd {
	name = present.OneLine(name)
	if err != nil {
		return tea.Batch(m.setToast(fmt.Sprintf("could not remove consumer %s: %v", name, err), present.ToneDanger), m.loadCmd())
	}
	return tea.Batch(m.setToast(fmt.Sprintf("removed consumer %s: its credential no longer works", name), present.ToneOK), m.loadCmd())
}

// editedText sums an edit up for the toast: what changed, old → new.
func editedText(before, after accounts.Account, notes []string) string {
	var parts []string
	for _, c := range edit.Diff(before, after) {
		parts = append(parts, fmt.Sprintf("%s %s → %s", c.Field.Label(), orNone(c.Old), orNone(c.New)))
	}
	text := fmt.Sprintf("edited %s, tokens kept: %s", after.Name, strings.Join(parts, "; "))
	if len(parts) == 0 {
		text = fmt.Sprintf("%s already had those settings", after.Name)
	}
	for _, n := range notes {
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
