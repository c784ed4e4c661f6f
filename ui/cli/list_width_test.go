package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/oauth/sandbox"
)

// In a terminal, keyfob list fits its width as the TUI's list does: one
// line per account down to 45 columns, the id, email, scopes and kind
// gone in that order, long names cut; a failed refresh's server error is not in
// the status column but in --wide (and --json). A pipe gets every column.
func TestListFitsTheTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	failing := e.minted("a0000002", "a-very-long-account-name-indeed", 30*time.Minute)
	failing.Email = "someone.with.a.long.address@example.com"
	e.seed(e.minted("a0000001", "car", 8*time.Hour), failing)
	e.srv.FailNext(sandbox.FaultServerError, 1)
	if r := e.run("", "refresh", "a-very"); r.code == 0 {
		t.Fatal("the refresh did not fail")
	}
	stored := e.account("a-very")
	serverError := stored.RefreshFailed()
	if serverError == "" {
		t.Fatal("no refresh error recorded")
	}
	for _, tc := range []struct {
		width int
		has   []string
		lacks []string
	}{
		{200, []string{"NAME", "EMAIL", "KIND", "SCOPES", "ID", "someone.with.a.long.address@example.com", "a-very-long-account-name-indeed"}, nil},
		{100, []string{"EMAIL", "KIND", "SCOPES"}, []string{"ID", "a0000001"}},
		{80, []string{"KIND", "SCOPES"}, []string{"ID", "EMAIL"}},
		{60, []string{"NAME", "KIND", "EXPIRES", "STATUS", "! refresh failed", "✓ valid"}, []string{"EMAIL", "SCOPES", "ID", "a-very-long-account-name-indeed"}},
		{45, []string{"NAME", "EXPIRES", "STATUS", "! refresh failed"}, []string{"KIND"}},
	} {
		r := e.invoke(call{outTTY: true, columns: tc.width}, "list")
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if r.code != 0 || len(lines) != 3 {
			t.Fatalf("%d columns: exit %d, %d lines:\n%s", tc.width, r.code, len(lines), r.stdout)
		}
		for _, l := range lines {
			if w := ansi.StringWidth(l); w > tc.width {
				t.Errorf("%d columns: a line is %d wide: %q", tc.width, w, l)
			}
		}
		for _, want := range tc.has {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%d columns: no %q in\n%s", tc.width, want, r.stdout)
			}
		}
		for _, not := range append(tc.lacks, serverError[:20]) {
			if strings.Contains(r.stdout, not) {
				t.Errorf("%d columns: %q shown in\n%s", tc.width, not, r.stdout)
			}
		}
	}
	// --wide and a pipe: every column in full; --wide also says why.
	wide := e.invoke(call{outTTY: true, columns: 60}, "list", "--wide")
	if !strings.Contains(wide.stdout, "! refresh failed: "+serverError[:20]) || !strings.Contains(wide.stdout, "a0000001") {
		t.Errorf("--wide:\n%s", wide.stdout)
	}
	piped := e.mustRun("", "list")
	if !strings.Contains(piped.stdout, "someone.with.a.long.address@example.com") || !strings.Contains(piped.stdout, "a0000002") ||
		strings.Contains(piped.stdout, serverError[:20]) {
		t.Errorf("a pipe:\n%s", piped.stdout)
	}
}
