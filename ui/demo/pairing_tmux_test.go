package demo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/ui/present/qrtest"
)

// TestPairingQRInTmux: in the real binary at 80×24, the demo's fleet
// account's page offers the pairing link, p draws it as a QR code, and the
// code read back from tmux's screen (what a phone's camera would see, cell
// by cell) decodes to the link.
func TestPairingQRInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("KEYFOB_REQUIRE_TMUX") != "" {
			t.Fatal("tmux is not installed, and KEYFOB_REQUIRE_TMUX says this test must run")
		}
		t.Skip("tmux is not installed")
	}
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := keyfobBinary(t)
	s := &tmuxSession{t: t, socket: fmt.Sprintf("keyfob-qr-%d", os.Getpid()), name: "qr"}
	home := t.TempDir()
	env := []string{
		"env", "-i", "PATH=" + os.Getenv("PATH"), "HOME=" + home, "TERM=xterm-256color",
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "XDG_STATE_HOME=" + filepath.Join(home, "state"),
		"LANG=C.UTF-8", bin, "demo",
	}
	if out, err := s.tmux(append([]string{"new-session", "-d", "-s", s.name, "-x", "80", "-y", "24"}, env...)...); err != nil {
		t.Fatalf("tmux new-session: %v %s", err, out)
	}
	t.Cleanup(func() { _, _ = s.tmux("kill-server") })
	link := fleetapp.PairingURL(DemoAppDomain)

	s.waitFor("the main screen", func(scr string) bool { return strings.Contains(scr, "model-3") })
	s.keys("Enter")
	s.waitFor("the account's page", func(scr string) bool { return strings.Contains(scr, "› model-3") })
	// p works once the page knows the app's domain (read in the
	// background): press it until the code shows.
	scr := s.waitFor("the QR code", func(scr string) bool {
		if strings.Contains(scr, "Scan with the phone") {
			return true
		}
		s.keys("p")
		return false
	})
	got, err := qrtest.Decode(strings.Split(scr, "\n"))
	if err != nil || got != link {
		t.Fatalf("decoded %q (%v), want %q; the screen:\n%s", got, err, link, scr)
	}
	s.keys("q")
}
