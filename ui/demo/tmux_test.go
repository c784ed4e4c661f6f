package demo

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// The tmux tests run the keyfob binary, built once (Run removes it); each
// has a tmux server and a home of its own, so they run in parallel.
func TestMain(m *testing.M) { os.Exit(keyfobtest.Run(m)) }

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
	// A clean environment: nothing of the user's configuration can be
	// read or written, even if the demo had a bug.
	keyfobtest.Need(t, "tmux") // before the build: a skip builds nothing
	t.Parallel()
	dir := t.TempDir()
	s := keyfobtest.StartTmux(t, dir, 110, 32, keyfobtest.HomeIn(dir).Env(), keyfobtest.Binary(t), "demo")

	scr := s.WaitFor("the main screen", func(scr string) bool { return strings.Contains(scr, "homelab") })
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

	s.Keys("?")
	s.WaitFor("help", func(scr string) bool {
		return strings.Contains(scr, "keyfob — keys") && strings.Contains(scr, "refresh all")
	})
	s.Keys("Escape")
	s.WaitFor("help to close", func(scr string) bool { return !strings.Contains(scr, "keyfob — keys") })

	s.Keys("/")
	s.Type("power")
	scr = s.WaitFor("the filter", func(scr string) bool { return strings.Contains(scr, "1 of 7 accounts match") })
	if row(scr, "model-3") != "" || row(scr, "powerwall") == "" {
		t.Errorf("the filter shows the wrong rows:\n%s", scr)
	}
	s.Keys("Enter", "Escape")
	s.WaitFor("the filter to clear", func(scr string) bool { return strings.Contains(scr, "7 accounts") && row(scr, "model-3") != "" })

	// Clearing the filter keeps the selection on what it found: powerwall,
	// whose token expired. r refreshes it at the sandbox.
	s.WaitFor("powerwall selected", func(scr string) bool { return strings.HasPrefix(strings.TrimSpace(row(scr, "powerwall")), "›") })
	s.Keys("r")
	scr = s.WaitFor("the refresh", func(scr string) bool {
		r := row(scr, "powerwall")
		return strings.Contains(r, "✓ valid") && countdown.MatchString(r)
	})
	if m := countdown.FindString(row(scr, "powerwall")); !strings.HasPrefix(m, "7h 59m") && m != "8h 00m 00s" {
		t.Errorf("after the refresh the countdown is %q; want about 8 hours", m)
	}
	// The countdown ticks.
	first := countdown.FindString(row(scr, "model-3"))
	s.WaitFor("the countdown to tick", func(scr string) bool {
		return countdown.FindString(row(scr, "model-3")) != first
	})

	s.Keys("q")
	s.WaitGone(10 * time.Second)
}
