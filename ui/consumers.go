package ui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/dialog"
)

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
		return m.push(dialog.NewRemoveConsumer(m.c, r.Account(), cs[0]), nil)
	}
	return m.push(dialog.NewPickConsumer(m.c, r.Account(), cs), nil)
}

// confirmConsumer replaces the chooser d with the confirm for k.
func (m *Model) confirmConsumer(d dialog.Dialog, k accounts.Consumer) tea.Cmd {
	m.dialogs.Remove(d)
	r := m.list.Row(k.AccountID)
	if r == nil {
		return nil
	}
	return m.push(dialog.NewRemoveConsumer(m.c, r.Account(), k), nil)
}
