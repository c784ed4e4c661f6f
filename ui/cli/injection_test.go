package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/oauth/sandbox"
)

// Text from the server (claims, userinfo) reaches the terminal only
// cleaned: the sandbox's FaultHostileClaims puts escape sequences, a bell
// and a line break into the email, the name, the region code and the
// granted scopes of a login. keyfob's own output holds no escape sequence,
// so any control character but a line end is a failure. `list --json`
// keeps the exact strings, for scripts.
func TestHostileClaimsNeverReachTheTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.srv.FailNext(sandbox.FaultHostileClaims, 1)
	r := e.mustRun("", "login", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", sandbox.FleetClientID,
		"--scopes", "openid", "--redirect-uri", e.fleetRedirect(), "--name", "car")
	terminalSafe(t, "login", r.stdout+r.stderr)
	if summary := lastLine(r.stderr); !strings.HasPrefix(summary, "Added car <evil@example.com> (fleet/na)") {
		t.Errorf("the login summary is %q", summary)
	}

	list := e.mustRun("", "list")
	terminalSafe(t, "list", list.stdout+list.stderr)
	if !strings.Contains(list.stdout, "energy_cmds") || !strings.Contains(list.stdout, "evil@example.com") {
		t.Errorf("list does not show the cleaned scopes and email:\n%s", list.stdout)
	}

	var got []listEntry
	if err := json.Unmarshal([]byte(e.mustRun("", "list", "--json").stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Email != sandbox.HostileEmail ||
		!slices.Contains(got[0].Scopes, sandbox.HostileScopeNewline) || !slices.Contains(got[0].Scopes, sandbox.HostileScopeClear) {
		t.Errorf("list --json changed the server's strings: %+v", got)
	}
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// terminalSafe fails when out holds a control character other than a line
// end (an escape sequence, a bell, a C1 control), or a line forged by a
// line break in server text.
func terminalSafe(t *testing.T, where, out string) {
	t.Helper()
	for i, r := range out {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r < 0xa0) {
			t.Errorf("%s: control character %U at byte %d: %q", where, r, i, out[max(0, i-20):min(len(out), i+20)])
			return
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "keyfob: all tokens valid") {
			t.Errorf("%s: a line break in a scope forged the line %q", where, l)
		}
	}
}
