package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
)

// The cron recipe: with --quiet, refresh prints nothing when all is well
// (cron mails nothing), and only the failures, on stderr, when not.
func TestRefreshQuietPrintsOnlyFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "fresh", 8*time.Hour), e.minted("a0000002", "soon", 10*time.Minute))
	r := e.run("", "refresh", "--all", "--min-valid", "30m", "--quiet")
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("all well: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if e.srv.Stats().Refreshes != 1 {
		t.Fatalf("%d refreshes, want 1 (soon)", e.srv.Stats().Refreshes)
	}
	dead := e.minted("a0000003", "dead", 10*time.Minute)
	e.srv.KillRefreshToken(dead.RefreshToken)
	e.seed(dead)
	r = e.run("", "refresh", "--all", "--min-valid", "30m", "-q")
	if r.code != ExitLoginRequired || r.stdout != "" {
		t.Fatalf("a failure: exit %d, stdout %q", r.code, r.stdout)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "✗ dead: ") || strings.Contains(r.stderr, `refreshing "dead"`) ||
		!strings.Contains(lines[1], "1 of 3 accounts need a new login") {
		t.Fatalf("stderr %q", r.stderr)
	}
	// Without --quiet, the accounts left alone and refreshed are listed.
	r = e.run("", "refresh", "--all", "--min-valid", "30m")
	if !strings.Contains(r.stdout, "· fresh: still valid") || !strings.Contains(r.stdout, "· soon: still valid") {
		t.Fatalf("stdout %q", r.stdout)
	}
}

// refresh --json prints each account's outcome in the documented schema,
// errors included, exactly; the exit code is unchanged.
func TestRefreshJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	dead := e.minted("a0000003", "dead", 10*time.Minute)
	e.srv.KillRefreshToken(dead.RefreshToken)
	e.seed(e.minted("a0000001", "fresh", 8*time.Hour), e.minted("a0000002", "soon", 10*time.Minute), dead)
	r := e.run("", "refresh", "--all", "--min-valid", "30m", "--json")
	if r.code != ExitLoginRequired {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	want := map[string][2]string{"fresh": {"still_valid", "valid"}, "soon": {"refreshed", "valid"}, "dead": {"failed", "login_required"}}
	if len(got) != 3 {
		t.Fatalf("%d entries: %s", len(got), r.stdout)
	}
	for _, g := range got {
		name, _ := g["name"].(string)
		w := want[name]
		if g["outcome"] != w[0] || g["status"] != w[1] || g["id"] == "" || g["access_expires_at"] == nil {
			t.Errorf("%s: %v", name, g)
		}
		errText, _ := g["error"].(string)
		if (name == "dead") != (errText != "") || strings.HasPrefix(errText, "refreshing") {
			t.Errorf("%s: error %q", name, errText)
		}
	}
	if strings.Contains(r.stderr, "✗ ") {
		t.Errorf("the failures are in the JSON, not on stderr too: %s", r.stderr)
	}
	if r := e.run("", "refresh", "--all", "--json", "--quiet"); r.code != ExitUsage {
		t.Errorf("--json --quiet: exit %d", r.code)
	}
	if r := e.run("", "refresh", "dead", "--json"); r.code != ExitLoginRequired || !strings.HasPrefix(r.stdout, "[") {
		t.Errorf("one account: exit %d, %q", r.code, r.stdout)
	}
}
