package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

func TestLoginFleetLoopbackThroughBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	r := e.mustRun("", "login", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", sandbox.FleetClientID,
		"--redirect-uri", e.fleetRedirect(), "--name", "car")
	if !strings.Contains(r.stderr, "Added car <driver@example.com>") {
		t.Errorf("stderr: %s", r.stderr)
	}
	a := e.account("car")
	if a.Kind != accounts.KindFleet || a.Email != "driver@example.com" || a.AccessToken == "" || !e.srv.RefreshTokenLive(a.RefreshToken) {
		t.Fatalf("stored %+v", a)
	}
	if st := e.srv.Stats(); st.CodeExchanges != 1 {
		t.Fatalf("stats %+v", st)
	}
	if len(a.GrantedScopes) == 0 {
		t.Error("granted scopes not recorded")
	}
}

func TestLoginCustomEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.mustRun("", "login", "--kind", "custom", "--client-id", "my-app",
		"--auth-url", e.srv.URL()+"/oauth2/v3/authorize", "--token-url", e.srv.URL()+"/oauth2/v3/token",
		"--revoke-url", e.srv.URL()+"/oauth2/v3/revoke", "--scopes", "openid,offline_access email", "--name", "mine")
	a := e.account("mine")
	if a.Kind != accounts.KindCustom || a.Endpoints.TokenURL != e.srv.URL()+"/oauth2/v3/token" || a.RefreshToken == "" {
		t.Fatalf("stored %+v", a)
	}
	if strings.Join(a.RequestedScopes, " ") != "openid offline_access email" {
		t.Errorf("requested scopes %q", a.RequestedScopes)
	}
}

// runInteractive runs keyfob in-process with stdin and stderr on pipes:
// answer reads stderr line by line (and prompts that wait for input) and
// may write to stdin; when it returns true, stdin is closed.
func (e *env) runInteractive(inTTY bool, answer func(line string, stdin io.Writer) bool, args ...string) result {
	e.t.Helper()
	inR, inW := io.Pipe()
	errR, errW := io.Pipe()
	done := make(chan result, 1)
	go func() {
		r := e.invoke(call{stdin: inR, stderr: errW, inTTY: inTTY}, args...)
		errW.Close()
		done <- r
	}()
	sc := bufio.NewScanner(errR)
	sc.Split(scanLinesOrPrompt)
	for sc.Scan() {
		if answer(sc.Text(), inW) {
			inW.Close()
		}
	}
	r := <-done
	inW.Close()
	return r
}

// scanLinesOrPrompt splits on newlines, and also after a prompt that ends
// in ": " and waits for input.
func scanLinesOrPrompt(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if bytes.HasSuffix(data, []byte(": ")) {
		return len(data), data, nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// authURLOf picks the sign-in address out of a line keyfob printed.
func authURLOf(line string, seen *string) {
	if u := strings.TrimSpace(line); strings.HasPrefix(u, "http") && strings.Contains(u, "/authorize?") {
		*seen = u
	}
}

func TestLoginOwnerPastedRedirect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	var authURL string
	r := e.runInteractive(false, func(line string, stdin io.Writer) bool {
		authURLOf(line, &authURL)
		if strings.HasPrefix(line, "Redirect URL or code") {
			loc := redirectOf(t, authURL)
			if !strings.HasPrefix(loc, "tesla://auth/callback?") {
				t.Errorf("redirect %q", loc)
			}
			fmt.Fprintln(stdin, loc)
			return true
		}
		return false
	}, "login", "--kind", "owner", "--issuer", e.srv.URL(), "--no-browser", "--name", "home")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	a := e.account("home")
	if a.Kind != accounts.KindOwner || a.ClientID != "ownerapi" || a.Email != "driver@example.com" || a.RefreshToken == "" {
		t.Fatalf("stored %+v", a)
	}
}

// TestLoginLoopbackPasteFallback: at a terminal, a loopback login also
// takes the address pasted from a browser on another machine; a paste
// that does not work leaves it waiting.
func TestLoginLoopbackPasteFallback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	var authURL string
	pasted := 0
	noBrowser := func(string) error { return nil }
	inR, inW := io.Pipe()
	errR, errW := io.Pipe()
	done := make(chan result, 1)
	go func() {
		r := e.invoke(call{stdin: inR, stderr: errW, inTTY: true, browser: noBrowser},
			"login", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", sandbox.FleetClientID,
			"--redirect-uri", e.fleetRedirect(), "--name", "remote")
		errW.Close()
		done <- r
	}()
	sc := bufio.NewScanner(errR)
	sc.Split(scanLinesOrPrompt)
	for sc.Scan() {
		line := sc.Text()
		authURLOf(line, &authURL)
		if strings.HasPrefix(line, "If the browser runs on another machine") {
			fmt.Fprintln(inW, "not a redirect at all")
			pasted++
		}
		if strings.HasPrefix(line, "Paste the address again") && pasted == 1 {
			fmt.Fprintln(inW, redirectOf(t, authURL))
			pasted++
		}
	}
	r := <-done
	inW.Close()
	if r.code != 0 || pasted != 2 || !strings.Contains(r.stderr, "Added remote") {
		t.Fatalf("exit %d after %d pastes: %s", r.code, pasted, r.stderr)
	}
	if a := e.account("remote"); !e.srv.RefreshTokenLive(a.RefreshToken) || e.srv.Stats().CodeExchanges != 1 {
		t.Fatalf("stored %+v, stats %+v", a, e.srv.Stats())
	}
}

func TestLoginPastedURLWithoutCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	r := e.runInteractive(false, func(line string, stdin io.Writer) bool {
		if strings.HasPrefix(line, "Redirect URL or code") {
			fmt.Fprintln(stdin, "tesla://auth/callback?state=abc&issuer=x")
			return true
		}
		return false
	}, "login", "--kind", "owner", "--issuer", e.srv.URL(), "--no-browser")
	if r.code != 1 || !strings.Contains(r.stderr, "no code") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if e.storeFiles() != nil {
		t.Fatal("a store was written")
	}
}

func TestLoginStateMismatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	// The forged answer does not end the login, which would wait for the
	// real one until its --timeout: the browser ends it once answered.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	forged := make(chan int, 1)
	tamper := func(authURL string) error {
		go func() {
			defer cancel()
			status, _ := signIn("tamper", authURL)
			forged <- status
		}()
		return nil
	}
	r := e.invoke(call{browser: tamper, ctx: ctx}, "login", "--kind", "fleet", "--issuer", e.srv.URL(),
		"--client-id", sandbox.FleetClientID, "--redirect-uri", e.fleetRedirect())
	if r.code != 1 || !strings.Contains(strings.ToLower(r.stderr), "state") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if status := <-forged; status != http.StatusBadRequest {
		t.Fatalf("the forged answer got %d, want 400", status)
	}
	if st := e.srv.Stats(); st.CodeExchanges != 0 {
		t.Fatal("the code was exchanged despite the state mismatch")
	}
}

func TestLoginPartnerClientCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	r := e.runEnv("", map[string]string{EnvClientSecret: sandbox.PartnerSecret}, "login", "--kind", "partner",
		"--issuer", e.srv.URL(), "--client-id", sandbox.PartnerClientID, "--region", "eu", "--name", "biz")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	a := e.account("biz")
	if a.Kind != accounts.KindPartner || a.RefreshToken != "" || a.AccessToken == "" || a.Region != "eu" {
		t.Fatalf("stored %+v", a)
	}
	if !strings.Contains(a.Audience, "fleet-api.prd.eu") {
		t.Errorf("audience %q", a.Audience)
	}
	// Refreshing a partner account runs the grant again.
	e.mustRun("", "refresh", "biz")
	if st := e.srv.Stats(); st.ClientCredentials != 2 {
		t.Fatalf("stats %+v", st)
	}
	// The secret is read from a file too, and a wrong one is refused without leaking it.
	secretFile := filepath.Join(e.dir, "secret")
	os.WriteFile(secretFile, []byte("wrong-secret-value\n"), 0o600)
	r = e.run("", "login", "--kind", "partner", "--issuer", e.srv.URL(), "--client-id", sandbox.PartnerClientID,
		"--client-secret-file", secretFile)
	if r.code != 1 || strings.Contains(r.stderr, "wrong-secret-value") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// And from stdin.
	r = e.run(sandbox.PartnerSecret+"\n", "login", "--kind", "partner", "--issuer", e.srv.URL(),
		"--client-id", sandbox.PartnerClientID, "--client-secret-file", "-", "--name", "biz2")
	if r.code != 0 || e.account("biz2").AccessToken == "" {
		t.Fatalf("secret on stdin: exit %d: %s", r.code, r.stderr)
	}
}

func TestLoginLegacyPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	u := e.srv.User()
	e.mustRun(u.Password+"\n", "login", "--kind", "legacy", "--base-url", e.srv.URL(), "--email", u.Email, "--name", "old")
	a := e.account("old")
	if a.Kind != accounts.KindLegacy || a.ClientID != sandbox.LegacyClientID || a.AccessToken == "" || a.RefreshToken == "" {
		t.Fatalf("stored %+v", a)
	}
	if d := time.Until(a.Expiry); d < 44*24*time.Hour {
		t.Errorf("legacy token expires in %v, want 45 days", d)
	}
	if st := e.srv.Stats(); st.PasswordGrants != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Refresh and revoke speak the legacy JSON protocol.
	e.mustRun("", "refresh", "old")
	if st := e.srv.Stats(); st.LegacyRefreshes != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Its 200 proves nothing (TESLA.md §7): reported as not confirmed,
	// never as revoked, and the tokens are kept.
	r := e.mustRun("", "revoke", "old", "--yes")
	if !strings.Contains(r.stdout, "Server: not confirmed") || strings.Contains(r.stdout, "Server: revoked") ||
		!strings.Contains(r.stdout, "tokens were kept") || e.srv.Stats().LegacyRevocations != 1 {
		t.Fatalf("revoke: %s / %+v", r.stdout, e.srv.Stats())
	}
	if a := e.account("old"); a.State != accounts.StateRevoked || a.RefreshToken == "" {
		t.Fatalf("after an unconfirmed revocation: state %s, refresh token kept %v", a.State, a.RefreshToken != "")
	}
	// A wrong password is refused with exit 1 and not echoed.
	r = e.run("hunter2-not-it\n", "login", "--kind", "legacy", "--base-url", e.srv.URL(), "--email", u.Email)
	if r.code != 1 || strings.Contains(r.stderr, "hunter2-not-it") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// Without --email and without a terminal there is no one to ask.
	r = e.run(u.Password+"\n", "login", "--kind", "legacy", "--base-url", e.srv.URL())
	if r.code != 2 || !strings.Contains(r.stderr, "--email is required") {
		t.Fatalf("no email: exit %d: %s", r.code, r.stderr)
	}
	// At a terminal it asks for both.
	r = e.invoke(call{stdin: strings.NewReader(u.Email + "\n" + u.Password + "\n"), inTTY: true},
		"login", "--kind", "legacy", "--base-url", e.srv.URL(), "--name", "asked")
	if r.code != 0 || !strings.Contains(r.stderr, "Email: ") || !strings.Contains(r.stderr, "Password for "+u.Email) {
		t.Fatalf("prompts: exit %d: %s", r.code, r.stderr)
	}
}
