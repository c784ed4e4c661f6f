// Package detail is the detail page of keyfob's terminal interface:
// everything known about one account, scrollable, refreshed as its
// countdowns move.
package detail

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/list"
)

// Back asks the root to return to the list.
type Back struct{}

// RemoveConsumer asks the root to remove one of the consumers of the
// account ID (it asks which, and confirms).
type RemoveConsumer struct{ ID string }

// Model is the detail page of one account. Create it with New.
type Model struct {
	c    *common.Common
	keys KeyMap
	id   string
	vp   viewport.Model
	// consumers are the account's consumers of keyfob serve.
	consumers []accounts.Consumer
	// pairing is the domain of a fleet account's app ("" when unknown):
	// its virtual key's pairing link. showQR shows the link as a QR code
	// in place of the page.
	pairing string
	showQR  bool
	width   int
	height  int
}

// New returns a detail page that shows nothing yet.
func New(c *common.Common) *Model {
	d := &Model{c: c, keys: DefaultKeyMap()}
	d.vp = viewport.New()
	d.vp.MouseWheelEnabled = true
	k := d.keys
	d.vp.KeyMap = viewport.KeyMap{
		PageDown: k.PageDown, PageUp: k.PageUp, HalfPageUp: k.HalfUp, HalfPageDown: k.HalfDown,
		Up: k.Up, Down: k.Down, Left: k.Left, Right: k.Right,
	}
	return d
}

// Show starts the page of the account id, at its top.
func (d *Model) Show(id string) {
	d.id, d.consumers, d.pairing, d.showQR = id, nil, "", false
	d.vp.SetContent("")
	d.vp.GotoTop()
}

// ID is the account the page shows.
func (d *Model) ID() string { return d.id }

// SetSize gives the page width×height cells.
func (d *Model) SetSize(width, height int) {
	d.vp.SetWidth(width)
	d.vp.SetHeight(max(height, 1))
	d.width, d.height = width, max(height, 1)
}

// Refresh renders the page of r again (its countdowns move every second),
// keeping the scroll position.
func (d *Model) Refresh(r *list.Row) {
	off := d.vp.YOffset()
	d.vp.SetContent(render(r, d.c, page{consumers: d.consumers, remove: d.KeyMap().RemoveConsumer,
		pairing: d.pairing, showQR: d.KeyMap().ShowQR}))
	d.vp.SetYOffset(off)
}

// SetConsumers gives the page the account's consumers of keyfob serve;
// Refresh shows them.
func (d *Model) SetConsumers(cs []accounts.Consumer) { d.consumers = cs }

// SetPairing gives the page of the account id its app's domain, whose
// pairing link it shows ("" when keyfob does not know it).
func (d *Model) SetPairing(id, domain string) {
	if id == d.id {
		d.pairing = domain
	}
}

// Consumers are the consumers the page shows.
func (d *Model) Consumers() []accounts.Consumer { return d.consumers }

// KeyMap is the page's keys, enabled where they apply.
func (d *Model) KeyMap() KeyMap {
	k := d.keys
	k.RemoveConsumer.SetEnabled(len(d.consumers) > 0 && !d.showQR)
	k.ShowQR.SetEnabled(d.pairing != "")
	if d.showQR {
		k.ShowQR.SetHelp(k.ShowQR.Help().Key, "hide the QR code")
	}
	return k
}

// ShortHelp is the page's part of the footer, before the account keys.
func (d *Model) ShortHelp() []key.Binding {
	k := d.KeyMap()
	return []key.Binding{k.Back, k.Up, k.RemoveConsumer, k.ShowQR}
}

// FullHelp is the page's column of the help screen.
func (d *Model) FullHelp() []key.Binding {
	k := d.KeyMap()
	return []key.Binding{k.Up, k.Back, k.RemoveConsumer, k.ShowQR}
}

// Update scrolls the page, or goes back to the list.
func (d *Model) Update(msg tea.Msg) (common.Action, tea.Cmd) {
	if kp, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(kp, d.KeyMap().ShowQR):
			d.showQR = !d.showQR
			return nil, nil
		case d.showQR && key.Matches(kp, d.keys.Back):
			d.showQR = false
			return nil, nil
		case key.Matches(kp, d.keys.Back):
			return Back{}, nil
		case key.Matches(kp, d.KeyMap().RemoveConsumer):
			return RemoveConsumer{ID: d.id}, nil
		case key.Matches(kp, d.keys.Top):
			d.vp.GotoTop()
			return nil, nil
		case key.Matches(kp, d.keys.Bottom):
			d.vp.GotoBottom()
			return nil, nil
		}
	}
	var cmd tea.Cmd
	d.vp, cmd = d.vp.Update(msg)
	return nil, cmd
}

// Position is how far down the page is scrolled, when it does not fit.
func (d *Model) Position() string {
	if d.vp.TotalLineCount() <= d.vp.Height() {
		return ""
	}
	return fmt.Sprintf("%d%%", int(d.vp.ScrollPercent()*100+0.5))
}

// View renders the visible part of the page, or the pairing QR code.
func (d *Model) View() string {
	if d.showQR && d.pairing != "" {
		return qrView(d.c, d.pairing, d.width, d.height, d.KeyMap().ShowQR)
	}
	return d.vp.View()
}
