package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
)

// --min-valid is capped at half the token's lifetime; a token handed out
// with less left than was asked says so on stderr, and stdout holds the
// token alone. Without --min-valid on the command line, nothing is said.
func TestTokenMinValidCapIsSaid(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	car := e.minted("a0000001", "car", 8*time.Hour-7*time.Minute) // issued 7 minutes ago, 8 h tokens
	e.seed(car)
	r := e.mustRun("", "token", "car", "--min-valid", "7h59m")
	if r.stdout != car.AccessToken+"\n" || e.srv.Stats().Refreshes != 0 {
		t.Fatalf("the cap must keep the token: stdout %q, %d refreshes", r.stdout, e.srv.Stats().Refreshes)
	}
	for _, want := range []string{"keyfob: note: car's access token has 7h 52m left, less than --min-valid 7h 59m",
		"in the last half of its 8 hours lifetime (within 4 hours of its end)", "keyfob refresh car"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, args := range [][]string{{"token", "car"}, {"token", "car", "--min-valid", "3h"}} {
		if r := e.mustRun("", args...); r.stderr != "" {
			t.Errorf("%q: stderr %q", args, r.stderr)
		}
	}
	// refresh --min-valid says the same of a token it left alone.
	r = e.mustRun("", "refresh", "car", "--min-valid", "7h59m")
	if !strings.Contains(r.stdout, "· car: still valid") || !strings.Contains(r.stderr, "less than --min-valid 7h 59m") {
		t.Errorf("refresh: stdout %q, stderr %q", r.stdout, r.stderr)
	}
}

// A --min-valid longer than tokens live gets a token as long as they do,
// and says so.
func TestTokenMinValidLongerThanTokensLive(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{AccessTTL: time.Hour})
	e.seed(e.minted("a0000001", "car", -time.Minute))
	r := e.mustRun("", "token", "car", "--min-valid", "2h")
	if e.srv.Stats().Refreshes != 1 || !strings.Contains(r.stderr, "less than --min-valid 2 hours: its tokens live 1 hour") {
		t.Fatalf("%d refreshes, stderr %q", e.srv.Stats().Refreshes, r.stderr)
	}
}
