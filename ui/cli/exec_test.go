package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// runDir is a directory of the test for $XDG_RUNTIME_DIR, where keyfob
// exec makes the token's directory, so that leftovers are seen.
func (e *env) runDir() string {
	e.t.Helper()
	dir := filepath.Join(e.dir, "run")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		e.t.Fatal(err)
	}
	return dir
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Fatalf("%s should be empty after exec: %v %v", dir, entries, err)
	}
}

func TestExecGivesTheTokenInAPrivateFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	run := e.runDir()
	vars := map[string]string{"XDG_RUNTIME_DIR": run, "KEYFOB_TEST_CHILD": "report", "KEYFOB_TEST_EXIT": "7", "MY_TOKEN": "stale"}
	r := e.runEnv("", vars, "exec", "car", "--env", "MY_TOKEN", "--", os.Args[0], "an-argument")
	if r.code != 7 || r.stderr != "" {
		t.Fatalf("exit %d (want CMD's 7), stderr %q", r.code, r.stderr)
	}
	var got childReportJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("child said %q: %v", r.stdout, err)
	}
	tok := e.account("car").AccessToken
	if got.Content != tok || got.MyToken != tok {
		t.Fatalf("the file holds %q and $MY_TOKEN %q, want the token alone", got.Content, got.MyToken)
	}
	if got.FileMode != "600" || got.DirMode != "700" || filepath.Dir(filepath.Dir(got.TokenFile)) != run {
		t.Fatalf("file %s mode %s in a directory of mode %s", got.TokenFile, got.FileMode, got.DirMode)
	}
	if strings.Contains(strings.Join(got.Args, " "), tok) || got.Args[len(got.Args)-1] != "an-argument" {
		t.Fatalf("argv %q", got.Args)
	}
	// The refresh token never leaves keyfob: not in CMD's environment,
	// file, argv or output, nor in keyfob's own.
	if rt := e.account("car").RefreshToken; strings.Contains(r.stdout+r.stderr, rt) {
		t.Fatal("the refresh token reached CMD")
	}
	if n := strings.Count(strings.Join(got.Env, "\n"), tok); n != 1 {
		t.Fatalf("the access token is in CMD's environment %d times, want once ($MY_TOKEN)", n)
	}
	assertEmptyDir(t, run)
	vars["KEYFOB_TEST_EXIT"] = "0"
	if r := e.runEnv("", vars, "exec", "car", "--", os.Args[0]); r.code != 0 {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
}

// TestExecChildGetsNoClientSecret: the real binary, started with the
// client secret in its environment, hands CMD an environment without it.
func TestExecChildGetsNoClientSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	run := filepath.Join(e.dir, "run")
	if err := os.MkdirAll(run, 0o700); err != nil {
		t.Fatal(err)
	}
	const secret = "s3cr3t-client-value"
	r := e.runProcess("", []string{"KEYFOB_TEST_CHILD=report", "XDG_RUNTIME_DIR=" + run, EnvClientSecret + "=" + secret},
		"exec", "car", "--", os.Args[0])
	var got childReportJSON
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if len(got.Env) == 0 || strings.Contains(strings.Join(got.Env, "\n"), secret) {
		t.Fatalf("CMD's environment is missing or carries the client secret")
	}
	assertEmptyDir(t, run)
}

// TestExecReplacesTheTokenBeforeItExpires: tokens that live 6 s and the
// default 5 min margin, so the effective margin is half the lifetime: CMD,
// reading the file all along, sees the old token, then the new one, and
// never a missing, empty or partial file.
func TestExecReplacesTheTokenBeforeItExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{AccessTTL: 6 * time.Second})
	a := e.minted("a0000001", "car", 6*time.Second)
	a.AccessObtainedAt = time.Now()
	e.seed(a)
	old := e.account("car").AccessToken
	run := e.runDir()
	r := e.runEnv("", map[string]string{"XDG_RUNTIME_DIR": run, "KEYFOB_TEST_CHILD": "watch"}, "exec", "car", "--", os.Args[0])
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got childWatchJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("child said %q: %v", r.stdout, err)
	}
	if len(got.Seen) != 2 || got.Seen[0] != old || got.Bad != 0 {
		t.Fatalf("seen %d contents (first is the old token: %v), %d bad reads of %d", len(got.Seen),
			len(got.Seen) > 0 && got.Seen[0] == old, got.Bad, got.Reads)
	}
	// Due at half the token's life (3 s of 6): replaced before the old
	// token expired, and not before it was due.
	if exp := a.Expiry; !got.ChangedAt.Before(exp) || got.ChangedAt.Before(exp.Add(-3*time.Second)) {
		t.Errorf("the token was replaced %v before it expired, want about 3 s", exp.Sub(got.ChangedAt))
	}
	info, ok := e.srv.AccessToken(got.Seen[1])
	if !ok || !info.Expiry.After(time.Now()) || e.account("car").AccessToken != got.Seen[1] {
		t.Fatal("the new token is not the store's valid token")
	}
	if n := e.srv.Stats().Refreshes; n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	assertEmptyDir(t, run)
}

// TestExecKeeperBacksOffWhileTheTokenStillWorks: when the refresh of a
// token still valid fails, the keeper says so and tries again after its
// pause; then, with the account held back after the failure, it says
// when the next try is and waits that long instead of asking every
// second; the command keeps its token meanwhile.
func TestExecKeeperBacksOffWhileTheTokenStillWorks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "soon", 4*time.Minute))
	soon := e.account("soon")
	tf, err := newTokenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := tf.write(soon.AccessToken); err != nil {
		t.Fatal(err)
	}
	var errb keyfobtest.Buffer
	k := &tokenKeeper{m: e.manager(), file: tf, acct: soon, margin: 5 * time.Minute,
		io: &IOStreams{Err: &errb}, retry: 50 * time.Millisecond, done: make(chan struct{})}
	e.srv.FailNext(sandbox.FaultServerError, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go k.run(ctx)
	// Said twice, however slowly; asking every second, it would say more
	// within the next two.
	waitFor(t, 20*time.Second, func() bool { return strings.Count(errb.String(), "\n") >= 2 })
	time.Sleep(2 * time.Second)
	cancel()
	<-k.done
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "503") || !strings.HasSuffix(lines[0], "trying again in 50ms") ||
		!strings.Contains(lines[1], "waits before asking again") || !strings.HasSuffix(lines[1], "trying again in 30s") {
		t.Fatalf("the keeper said:\n%s", errb.String())
	}
	if got, _ := os.ReadFile(tf.path); string(got) != soon.AccessToken || e.srv.Stats().Failures != 1 || e.srv.Stats().Refreshes != 0 {
		t.Fatalf("the token file changed, or the server was asked again: %+v", e.srv.Stats())
	}
}

func TestExecBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	dead := e.minted("a0000002", "dead", -time.Minute)
	dead.State = accounts.StateLoginRequired
	e.seed(dead)
	run := e.runDir()
	vars := map[string]string{"XDG_RUNTIME_DIR": run, "KEYFOB_TEST_CHILD": "report"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no dash", []string{"exec", "car", os.Args[0]}, 2, "keyfob exec NAME -- CMD"},
		{"no command", []string{"exec", "car", "--"}, 2, "keyfob exec NAME -- CMD"},
		{"bad variable", []string{"exec", "car", "--env", "1X", "--", os.Args[0]}, 2, "not a variable name"},
		{"token file's variable", []string{"exec", "car", "--env", EnvTokenFile, "--", os.Args[0]}, 2, "--env " + EnvTokenFile + " would put the token"},
		{"no account", []string{"exec", "boat", "--", os.Args[0]}, 3, "no account matches"},
		{"login required", []string{"exec", "dead", "--", os.Args[0]}, 4, "needs a new login"},
		{"not found", []string{"exec", "car", "--", filepath.Join(e.dir, "no-such-tool")}, 127, "command not found"},
		{"not runnable", []string{"exec", "car", "--", e.dir}, 126, "cannot run"},
	} {
		r := e.runEnv("", vars, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%s: exit %d (want %d), stdout %q, stderr %q", tc.name, r.code, tc.code, r.stdout, r.stderr)
		}
	}
	assertEmptyDir(t, run)
}
