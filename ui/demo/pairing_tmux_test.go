package demo

import (
	"strings"
	"testing"

	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/ui/keyfobtest"
	"github.com/keyfob/keyfob/ui/present/qrtest"
)

// TestPairingQRInTmux: in the real binary at 80×24, the demo's fleet
// account's page offers the pairing link, p draws it as a QR code, and the
// code read back from tmux's screen (what a phone's camera would see, cell
// by cell) decodes to the link.
func TestPairingQRInTmux(t *testing.T) {
	keyfobtest.Need(t, "tmux") // before the build: a skip builds nothing
	t.Parallel()
	dir := t.TempDir()
	s := keyfobtest.StartTmux(t, dir, 80, 24, keyfobtest.HomeIn(dir).Env(), keyfobtest.Binary(t), "demo")
	link := fleetapp.PairingURL(DemoAppDomain)

	s.WaitFor("the main screen", func(scr string) bool { return strings.Contains(scr, "model-3") })
	s.Keys("Enter")
	s.WaitFor("the account's page", func(scr string) bool { return strings.Contains(scr, "› model-3") })
	// p works once the page knows the app's domain (read in the
	// background): press it until the code shows.
	scr := s.WaitFor("the QR code", func(scr string) bool {
		if strings.Contains(scr, "Scan with the phone") {
			return true
		}
		s.Keys("p")
		return false
	})
	got, err := qrtest.Decode(strings.Split(scr, "\n"))
	if err != nil || got != link {
		t.Fatalf("decoded %q (%v), want %q; the screen:\n%s", got, err, link, scr)
	}
	s.Keys("q")
}
