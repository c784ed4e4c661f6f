package detail

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// qrQuiet is the quiet zone of the TUI's QR code, in modules: two keep
// the code of a 40-character domain within 80×24, and the code is painted
// on a dark frame all the same.
const qrQuiet = 2

// virtualKey is the section of a fleet account's pairing link: the link
// that adds its app's virtual key to a car, and the key that shows it as
// a QR code.
func virtualKey(w *writer, a *accounts.Account, domain string, show key.Binding) {
	if a.Kind != accounts.KindFleet {
		return
	}
	st := w.st
	w.section("Virtual key")
	if domain == "" {
		w.kv("Pairing link", "not known yet: keyfob partner pair --domain DOMAIN shows it (and so does this page, after partner register)", st.Muted)
		return
	}
	w.kv("Pairing link", fleetapp.PairingURL(domain), st.Text)
	w.kv("", show.Help().Key+" shows it as a QR code: scan it with the phone that has the Tesla app, "+
		"choose the car, confirm with the key card", st.Muted)
}

// qrView is the pairing link of domain as a QR code, centred in
// width×height, light modules painted light on dark so it scans on any
// terminal background; a screen too small for it says so.
func qrView(c *common.Common, domain string, width, height int, hide key.Binding) string {
	st, link := c.Styles, fleetapp.PairingURL(domain)
	lines, err := present.QR(link, qrQuiet)
	caption := []string{
		st.Bold.Render(common.Clip("Scan with the phone that has the Tesla app", width-2)),
		st.Text.Render(common.Clip(link, width-2)),
		st.Muted.Render(common.Clip(hide.Help().Key+" or esc: back to the page", width-2)),
	}
	need := lipgloss.Width(strings.Join(lines, "\n"))
	if err != nil || len(lines)+len(caption) > height || need > width {
		msg := "The terminal is too small for the QR code (it needs " + strconv.Itoa(need) + "×" + strconv.Itoa(len(lines)+len(caption)) +
			"): make it larger, or run keyfob partner pair --domain " + domain
		if err != nil {
			msg = err.Error()
		}
		out := common.Wrap(msg, max(width-4, 10))
		return lipgloss.JoinVertical(lipgloss.Left, append(out, caption[1:]...)...)
	}
	code := lipgloss.NewStyle().Foreground(lipgloss.Color("#FFFFFF")).Background(lipgloss.Color("#000000"))
	var rows []string
	for _, l := range lines {
		rows = append(rows, code.Render(l))
	}
	block := lipgloss.JoinVertical(lipgloss.Center, append(rows, caption...)...)
	return lipgloss.Place(width, height, lipgloss.Center, lipgloss.Center, block)
}
