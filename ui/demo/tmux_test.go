package demo

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// tmuxSession drives the real keyfob binary in a detached tmux session on
// a private tmux server, so the user's own tmux is never touched.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
}

func (s *tmuxSession) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// keys sends keys one by one, pausing after each so that an escape is not
// read as the start of an alt-key sequence.
func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		if out, err := s.tmux("send-keys", "-t", s.name, k); err != nil {
			s.t.Fatalf("send-keys %q: %v %s", k, err, out)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// typeText sends literal text.
func (s *tmuxSession) typeText(text string) {
	s.t.Helper()
	if out, err := s.tmux("send-keys", "-t", s.name, "-l", text); err != nil {
		s.t.Fatalf("send-keys -l: %v %s", err, out)
	}
}

func (s *tmuxSession) screen() string {
	out, _ := s.tmux("capture-pane", "-p", "-t", s.name)
	return out
}

// waitFor polls the screen until cond holds (a hung program fails the
// test after a generous deadline; a slow one does not).
func (s *tmuxSession) waitFor(what string, cond func(screen string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		scr := s.screen()
		if cond(scr) {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s; the screen:\n%s", what, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *tmuxSession) alive() bool {
	_, err := s.tmux("has-session", "-t", s.name)
	return err == nil
}

// keyfobBinary builds keyfob from the repository root, or uses
// $KEYFOB_BINARY when set.
func keyfobBinary(t *testing.T) string {
	if bin := os.Getenv("KEYFOB_BINARY"); bin != "" {
		return bin
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(t.TempDir(), "keyfob")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building keyfob: %v\n%s", err, out)
	}
	return bin
}

func row(screen, name string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, " "+name+" ") {
			return l
		}
	}
	return ""
}

var countdown = regexp.MustCompile(`(\d+h )?\d+m \d\ds`)

// TestDemoInTmux runs `keyfob demo` in tmux and checks what a user sees:
// the sample accounts, help, the filter, a refresh, and quitting.
func TestDemoInTmux(t *testing.T) {
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
	s := &tmuxSession{t: t, socket: fmt.Sprintf("keyfob-test-%d", os.Getpid()), name: "demo"}
	home := t.TempDir()
	// A clean environment: nothing of the user's configuration can be
	// read or written, even if the demo had a bug.
	env := []string{
		"env", "-i", "PATH=" + os.Getenv("PATH"), "HOME=" + home, "TERM=xterm-256color",
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "XDG_STATE_HOME=" + filepath.Join(home, "state"),
		"LANG=C.UTF-8", bin, "demo",
	}
	args := append([]string{"new-session", "-d", "-s", s.name, "-x", "110", "-y", "32"}, env...)
	if out, err := s.tmux(args...); err != nil {
		t.Fatalf("tmux new-session: %v %s", err, out)
	}
	t.Cleanup(func() { _, _ = s.tmux("kill-server") })

	scr := s.waitFor("the main screen", func(scr string) bool { return strings.Contains(scr, "homelab") })
	for name, state := range map[string]string{
		"model-3": "✓ valid", "model-y": "! expiring", "powerwall": "✗ expired",
		"fleet-partner": "✓ valid", "old-app": "⊗ login required", "cybertruck": "! refresh ending",
		"homelab": "! expiring",
	} {
		if r := row(scr, name); !strings.Contains(r, state) {
			t.Errorf("row %s = %q; want %q", name, r, state)
		}
	}
	if !strings.Contains(scr, "demo · sandbox on 127.0.0.1:") {
		t.Errorf("no demo banner:\n%s", scr)
	}

	s.keys("?")
	s.waitFor("help", func(scr string) bool {
		return strings.Contains(scr, "keyfob — keys") && strings.Contains(scr, "refresh all")
	})
	s.keys("Escape")
	s.waitFor("help to close", func(scr string) bool { return !strings.Contains(scr, "keyfob — keys") })

	s.keys("/")
	s.typeText("power")
	scr = s.waitFor("the filter", func(scr string) bool { return strings.Contains(scr, "1 of 7 accounts match") })
	if row(scr, "model-3") != "" || row(scr, "powerwall") == "" {
		t.Errorf("the filter shows the wrong rows:\n%s", scr)
	}
	s.keys("Enter", "Escape")
	s.waitFor("the filter to clear", func(scr string) bool { return strings.Contains(scr, "7 accounts") && row(scr, "model-3") != "" })

	// Clearing the filter keeps the selection on what it found: powerwall,
	// whose token expired. r refreshes it at the sandbox.
	s.waitFor("powerwall selected", func(scr string) bool { return strings.HasPrefix(strings.TrimSpace(row(scr, "powerwall")), "›") })
	s.keys("r")
	scr = s.waitFor("the refresh", func(scr string) bool {
		r := row(scr, "powerwall")
		return strings.Contains(r, "✓ valid") && countdown.MatchString(r)
	})
	if m := countdown.FindString(row(scr, "powerwall")); !strings.HasPrefix(m, "7h 59m") && m != "8h 00m 00s" {
		t.Errorf("after the refresh the countdown is %q; want about 8 hours", m)
	}
	// The countdown ticks.
	first := countdown.FindString(row(scr, "model-3"))
	s.waitFor("the countdown to tick", func(scr string) bool {
		return countdown.FindString(row(scr, "model-3")) != first
	})

	s.keys("q")
	deadline := time.Now().Add(10 * time.Second)
	for s.alive() {
		if time.Now().After(deadline) {
			t.Fatalf("q did not quit; the screen:\n%s", s.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
