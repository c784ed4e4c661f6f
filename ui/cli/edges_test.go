package cli

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestTokenWriteNeedsAFile: `--write "$FILE"` with FILE unset must not
// print the token instead (a cron job would mail it), nor write a file
// named "-".
func TestTokenWriteNeedsAFile(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	tok := e.account("car").AccessToken
	t.Chdir(e.dir)
	for _, file := range []string{"", " ", "-"} {
		r := e.run("", "token", "car", "--write", file)
		if r.code != 2 || r.stdout != "" || strings.Contains(r.stderr, tok) || !strings.Contains(r.stderr, "--write needs a file name") {
			t.Errorf("--write %q: exit %d, stdout %q, stderr %q", file, r.code, r.stdout, r.stderr)
		}
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error(`--write - wrote a file named "-"`)
	}
}

// TestMistypedSubcommandIsAUsageError: a word a command group does not
// know exits 2, and the group alone shows its help.
func TestMistypedSubcommandIsAUsageError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	for _, args := range [][]string{{"partner", "regster"}, {"serve", "ad", "x"}} {
		if r := e.run("", args...); r.code != 2 || !strings.Contains(r.stderr, `unknown command "`+args[1]+`"`) {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	if r := e.run("", "partner"); r.code != 0 || !strings.Contains(r.stdout, "register") {
		t.Errorf("partner alone: exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestServeAddNamesTheConsumer: a bad consumer name is told as one, with
// no --name to fix it (serve add has none).
func TestServeAddNamesTheConsumer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	r := e.run("", "serve", "add", "bad\tname", "--account", "car")
	if r.code != 2 || !strings.Contains(r.stderr, `the consumer name "bad\tname" contains the control character`) ||
		strings.Contains(r.stderr, "--name") || strings.Contains(r.stderr, "account name") || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestServeRemoveUnknownConsumerSaysWhatToDo: exit 3 and where the names are.
func TestServeRemoveUnknownConsumerSaysWhatToDo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	r := e.run("", "serve", "remove", "nobody", "--yes")
	if r.code != 3 || !strings.Contains(r.stderr, `no consumer is named "nobody"; keyfob serve list shows the consumers`) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestDefaultAccountThatIsGone: a default_account that names no account
// says it came from config.json, for every command that uses it.
func TestDefaultAccountThatIsGone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour), e.minted("a0000002", "truck", time.Hour))
	if err := e.manager().SaveConfig(accounts.Config{DefaultAccount: "boat"}); err != nil {
		t.Fatal(err)
	}
	want := `keyfob: default_account in config.json: no account matches "boat"; name an account, or set default_account to one that keyfob list shows`
	for _, args := range [][]string{{"token"}, {"check"}, {"refresh"}, {"serve", "add", "x"}} {
		if r := e.run("", args...); r.code != 3 || strings.TrimSpace(r.stderr) != want || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	// A name given on the command line is the user's own.
	if r := e.run("", "token", "boat"); r.code != 3 || strings.Contains(r.stderr, "default_account") {
		t.Errorf("token boat: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestUnknownThemeIsAUsageError: exit 2, before any screen or sandbox.
func TestUnknownThemeIsAUsageError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	for _, args := range [][]string{{"--theme", "neon"}, {"demo", "--theme", "neon"}} {
		if r := e.run("", args...); r.code != 2 || !strings.Contains(r.stderr, `there is no theme called "neon"; choose one of charm`) {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

// TestEmptyConfigDirIsRefused: an empty --config-dir must not mean the
// default store.
func TestEmptyConfigDirIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	for _, args := range [][]string{{"--config-dir", "", "token"}, {"token", "--config-dir="}, {"list", "--config-dir", " "}} {
		if r := e.run("", args...); r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "--config-dir needs a directory") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	// $KEYFOB_CONFIG_DIR set but empty ("$DIR" unset in a script) is
	// refused the same way, in-process and in the real binary's own
	// environment; --config-dir still wins over it.
	for _, v := range []string{"", " "} {
		r := e.runEnv("", map[string]string{EnvConfigDir: v}, "list")
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "$KEYFOB_CONFIG_DIR is set but empty") {
			t.Errorf("%s=%q: exit %d, stdout %q, stderr %q", EnvConfigDir, v, r.code, r.stdout, r.stderr)
		}
	}
	r := e.runProcess("", []string{EnvConfigDir + "="}, "token", "car")
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "$KEYFOB_CONFIG_DIR is set but empty; set it to a directory, or unset it") {
		t.Errorf("the binary with %s=: exit %d, stdout %q, stderr %q", EnvConfigDir, r.code, r.stdout, r.stderr)
	}
	if r := e.runEnv("", map[string]string{EnvConfigDir: ""}, "--config-dir", e.storeDir(), "token", "car"); r.code != 0 {
		t.Errorf("--config-dir with an empty $%s: exit %d, %s", EnvConfigDir, r.code, r.stderr)
	}
}

// remove, revoke and serve remove ask first; with no terminal to ask at
// and no --yes they refuse as a usage error and change nothing, at the
// server or in the store.
func TestForgettingWithoutATerminalNeedsYes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	e.mustRun("", "serve", "add", "teslamate", "--account", "car")
	before := e.storeFiles()
	for _, args := range [][]string{{"remove", "car"}, {"revoke", "car"}, {"revoke", "car", "--remove"}, {"serve", "remove", "teslamate"}} {
		r := e.run("", args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "stdin is not a terminal") || !strings.Contains(r.stderr, "pass --yes to") {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	e.sameFiles("the store", before)
	if st := e.srv.Stats(); st.Revocations != 0 {
		t.Errorf("%d revocations reached the server", st.Revocations)
	}
	// At a terminal, revoke asks; only yes revokes.
	r := e.invoke(call{stdin: strings.NewReader("n\n"), inTTY: true}, "revoke", "car")
	if r.code != ExitError || !strings.Contains(r.stderr, "Revoke car's tokens at the server") || e.srv.Stats().Revocations != 0 {
		t.Fatalf("answered no: exit %d, %s", r.code, r.stderr)
	}
	r = e.invoke(call{stdin: strings.NewReader("y\n"), inTTY: true}, "revoke", "car")
	if r.code != 0 || e.account("car").State != accounts.StateRevoked {
		t.Fatalf("answered yes: exit %d, %s", r.code, r.stderr)
	}
}

// TestExecCompletesTheCommandAfterTheDash: before --, account names; after
// it, whatever the shell completes (commands, files), not nothing.
func TestExecCompletesTheCommandAfterTheDash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	if r := e.mustRun("", "__complete", "exec", ""); !strings.HasPrefix(r.stdout, "car\t") || !strings.HasSuffix(r.stdout, ":4\n") {
		t.Errorf("before --: %q", r.stdout)
	}
	for _, args := range [][]string{{"exec", "car", "--", ""}, {"exec", "car", "--", "tesla-control", ""}} {
		if r := e.mustRun("", append([]string{"__complete"}, args...)...); r.stdout != ":0\n" {
			t.Errorf("%q: %q, want the shell's own completion (:0)", args, r.stdout)
		}
	}
}
