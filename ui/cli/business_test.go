package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestBusinessLogin: a partner login with a business's auth code (from the
// environment or a file, never argv) gives a business token that stays
// refreshable; the code is in no output.
func TestBusinessLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	code := e.srv.GrantBusinessConsent(sandbox.PartnerClientID)
	r := e.runEnv("", map[string]string{EnvClientSecret: sandbox.PartnerSecret, EnvAuthCode: code},
		"login", "--kind", "partner", "--issuer", e.srv.URL(), "--client-id", sandbox.PartnerClientID,
		"--audience", e.srv.FleetAPIBase("na"), "--name", "fleet-co")
	if r.code != 0 || !strings.Contains(r.stderr, "business token") {
		t.Fatalf("login: %d %s", r.code, r.stderr)
	}
	a := e.account("fleet-co")
	if a.AuthCode != code || a.RefreshToken != "" {
		t.Fatalf("stored: %+v", a)
	}
	// Expired: keyfob token runs the grant again with the code.
	a.Expiry = time.Now().Add(-time.Minute)
	e.replace(a)
	before := e.srv.Stats().ClientCredentials
	tok := e.mustRun("", "token", "fleet-co")
	if strings.TrimSpace(tok.stdout) == a.AccessToken || e.srv.Stats().ClientCredentials != before+1 {
		t.Fatalf("refresh: %+v", e.srv.Stats())
	}
	for _, out := range []string{r.stdout, r.stderr, tok.stderr, e.mustRun("", "list", "--json").stdout} {
		if strings.Contains(out, code) {
			t.Fatal("the auth code was printed")
		}
	}

	// From a file; the consent withdrawn, a refresh says what to do and
	// keeps the account.
	file := filepath.Join(e.dir, "code.txt")
	if err := os.WriteFile(file, []byte(sandbox.BusinessAuthCode+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = e.runEnv("", map[string]string{EnvClientSecret: sandbox.PartnerSecret}, "login", "--kind", "partner",
		"--issuer", e.srv.URL(), "--client-id", sandbox.PartnerClientID, "--audience", e.srv.FleetAPIBase("na"),
		"--auth-code-file", file, "--name", "other-co")
	if r.code != 0 || e.account("other-co").AuthCode != sandbox.BusinessAuthCode {
		t.Fatalf("from a file: %d %s", r.code, r.stderr)
	}
	e.srv.WithdrawBusinessConsent(code)
	r = e.run("", "refresh", "fleet-co")
	if r.code != ExitLoginRequired || !strings.Contains(r.stderr, "Tesla for Business") || strings.Contains(r.stderr, code) {
		t.Fatalf("withdrawn: %d %s", r.code, r.stderr)
	}
	if e.account("fleet-co").AuthCode != code {
		t.Fatal("the account lost its code")
	}
	// The flag belongs to partner logins only.
	if r := e.run("", "login", "--kind", "fleet", "--client-id", "x", "--auth-code-file", file); r.code != ExitUsage ||
		!strings.Contains(r.stderr, "--auth-code-file does not apply") {
		t.Fatalf("fleet: %d %s", r.code, r.stderr)
	}
}
