package ui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/fleetapp"
)

// pairingMsg carries the domain of a fleet account's app, for its detail
// page's pairing link ("" when keyfob does not know it).
type pairingMsg struct{ id, domain string }

// pairingCmd looks up the domain of the app of the fleet account id in
// what keyfob remembers of the user's apps.
func (m *Model) pairingCmd(id string) tea.Cmd {
	r := m.list.Row(id)
	if r == nil || r.Account().Kind != accounts.KindFleet || m.c.Manager == nil {
		return nil
	}
	apps, clientID := fleetapp.Apps{Dir: m.c.Manager.Dir()}, r.Account().ClientID
	return func() tea.Msg { return pairingMsg{id: id, domain: apps.Domain(clientID)} }
}
