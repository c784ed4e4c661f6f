package cli

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// The tests here need whole keyfob processes.

// 50 `keyfob token` processes on one expired account make exactly one
// refresh and print one token, also when the server's tokens live shorter
// than the margin `keyfob token` asks for (5 minutes): then the margin is
// half the token's life, and a token another process refreshed meanwhile
// is used as it is.
func TestConcurrentTokenProcessesRefreshOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ttl  time.Duration // lifetime of the tokens the server issues; 0 = 8 h
	}{
		{"8-hour tokens", 0},
		{"30-second tokens, shorter than the margin", 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{Latency: 50 * time.Millisecond, AccessTTL: tc.ttl})
			e.seed(e.minted("a0000001", "car", -time.Minute))
			keyfobtest.Binary(t) // built before the clock matters
			concurrentTokens(t, e, 50)
		})
	}
}

// concurrentTokens runs n `keyfob token car` at once and checks that they
// caused one refresh and printed the same valid token.
func concurrentTokens(t *testing.T, e *env, n int) {
	t.Helper()
	outs := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = e.runProcess("", nil, "token", "car")
		}()
	}
	wg.Wait()
	for i, r := range outs {
		if r.code != 0 || r.stdout != outs[0].stdout {
			t.Fatalf("process %d: exit %d stdout %q stderr %s", i, r.code, r.stdout, r.stderr)
		}
	}
	if st := e.srv.Stats(); st.Refreshes != 1 {
		t.Fatalf("%d refreshes at the server, want 1", st.Refreshes)
	}
	tok := strings.TrimSpace(outs[0].stdout)
	if info, ok := e.srv.AccessToken(tok); !ok || !info.Expiry.After(time.Now()) {
		t.Fatal("printed token is not a valid sandbox token")
	}
	if a := e.account("car"); a.AccessToken != tok || !e.srv.RefreshTokenLive(a.RefreshToken) {
		t.Fatal("store does not hold the live token")
	}
}

func TestSecretsNeverInArgv(t *testing.T) {
	t.Parallel()
	// The only child process keyfob starts is the browser; its argument is
	// the authorize URL, which must carry no secret.
	e := newEnv(t, sandbox.Options{})
	logFile := filepath.Join(e.dir, "argv")
	script := filepath.Join(e.dir, "browser.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" >> "+logFile+"\nenv >> "+logFile+".env\nexec \""+os.Args[0]+"\" \"$@\"\n"), 0o700)
	r := e.runProcess("", []string{"BROWSER=" + script, EnvClientSecret + "=s3cr3t-client-value"},
		"login", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", sandbox.FleetClientID, "--redirect-uri", e.fleetRedirect())
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	argv, _ := os.ReadFile(logFile)
	if !strings.Contains(string(argv), "/authorize?") {
		t.Fatalf("browser not started through $BROWSER: %q", argv)
	}
	a := e.account("driver")
	for _, secret := range []string{"s3cr3t-client-value", a.AccessToken, a.RefreshToken} {
		if strings.Contains(string(argv), secret) || strings.Contains(r.stderr, secret) {
			t.Fatal("a secret reached argv or stderr")
		}
	}
	if env, _ := os.ReadFile(logFile + ".env"); len(env) == 0 || strings.Contains(string(env), "s3cr3t-client-value") {
		t.Fatalf("the browser's environment is missing or carries the client secret")
	}
	if !strings.Contains(string(argv), "code_challenge_method=S256") {
		t.Error("authorize URL without PKCE S256")
	}
}
