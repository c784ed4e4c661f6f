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
// terminal background, with as many of its caption lines as fit (the
// link first); a screen too small for the code says so.
func qrView(c *common.Common, domain string, width, height int, hide key.Binding) string {
	st, link := c.Styles, fleetapp.PairingURL(domain)
	lines, err := present.QR(link, qrQuiet)
	if err != nil {
		return strings.Join(common.Wrap(err.Error(), max(width-4, 10)), "\n")
	}
	need := lipgloss.Width(lines[0])
	if len(lines) > height || need > width {
		msg := "The terminal is too small for the QR code (it needs " + strconv.Itoa(need) + "×" + strconv.Itoa(len(lines)) +
			"): make it larger, or run keyfob partner pair --domain " + domain
		return strings.Join(append(common.Wrap(msg, max(width-4, 10)), link), "\n")
	}
	code := lipgloss.NewStyle().Foreground(lipgloss.Color("#FFFFFF")).Background(lipgloss.Color("#000000"))
	rows := make([]string, 0, len(lines)+3)
	for _, l := range lines {
		rows = append(rows, code.Render(l))
	}
	// The caption, most useful first: as many lines as the screen has.
	caption := []string{
		st.Text.Render(common.Clip(link, width-2)),
		st.Bold.Render(common.Clip("Scan with the phone that has the Tesla app", width-2)),
		st.Muted.Render(common.Clip(hide.Help().Key+" or esc: back to the page", width-2)),
	}
	caption = caption[:min(len(caption), height-len(lines))]
	if len(caption) > 1 {
		caption[0], caption[1] = caption[1], caption[0] // the hint above the link
	}
	block := lipgloss.JoinVertical(lipgloss.Center, append(rows, caption...)...)
	return lipgloss.Place(width, height, lipgloss.Center, lipgloss.Center, block)
}
