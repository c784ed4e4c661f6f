package ui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/dialog"
	"github.com/keyfob/keyfob/ui/present"
)

// consumerRemovedMsg is the outcome of removing a consumer of keyfob serve.
type consumerRemovedMsg struct {
	name string
	err  error
}

// consumersOf are the consumers of keyfob serve that get the tokens of the
// account id, in store order.
func (m *Model) consumersOf(id string) []accounts.Consumer {
	var out []accounts.Consumer
	for _, c := range m.consumers {
		if c.AccountID == id {
			out = append(out, c)
		}
	}
	return out
}

// pickConsumer opens the dialog that removes one of the consumers of the
// account id: straight to the confirm with one, a choice first with more.
func (m *Model) pickConsumer(id string) tea.Cmd {
	r := m.list.Row(id)
	cs := m.consumersOf(id)
	switch {
	case r == nil || len(cs) == 0:
		return nil
	case len(cs) == 1:
		return m.push(dialog.NewRemoveConsumer(m.c, r.Acct, cs[0]), nil)
	}
	return m.push(dialog.NewPickConsumer(m.c, r.Acct, cs), nil)
}

// confirmConsumer replaces the chooser d with the confirm for k.
func (m *Model) confirmConsumer(d dialog.Dialog, k accounts.Consumer) tea.Cmd {
	m.dialogs.Remove(d)
	r := m.list.Row(k.AccountID)
	if r == nil {
		return nil
	}
	return m.push(dialog.NewRemoveConsumer(m.c, r.Acct, k), nil)
}

// removeConsumerCmd removes the consumer name through the manager.
func (m *Model) removeConsumerCmd(name string) tea.Cmd {
	mgr, ctx := m.c.Manager, m.c.Ctx
	return func() tea.Msg {
		_, err := mgr.RemoveConsumer(ctx, name)
		return consumerRemovedMsg{name: name, err: err}
	}
}

func (m *Model) onConsumerRemoved(msg consumerRemovedMsg) tea.Cmd {
	name := present.OneLine(msg.name)
	if msg.err != nil {
		return tea.Batch(m.setToast(fmt.Sprintf("could not remove consumer %s: %v", name, msg.err), present.ToneDanger), m.loadCmd())
	}
	return tea.Batch(m.setToast(fmt.Sprintf("removed consumer %s: its credential no longer works", name), present.ToneOK), m.loadCmd())
}
