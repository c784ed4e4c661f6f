package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// Security checks seen from the outside: file modes, loose
// modes fixed with a notice, no token in any file but the store, and the
// clipboard cleared after the delay only when it still holds the token.
// (Loopback-only listeners, state and PKCE are tested in ./oauth and
// ./oauth/sandbox; secrets in argv and errors in process_test.go and
// bad_input_test.go.)

func TestFilesArePrivate(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	home := e.isolateHome()
	e.mustRun("", "login", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", sandbox.FleetClientID, "--redirect-uri", e.fleetRedirect())
	e.seed(e.minted("a0000009", "soon", -time.Minute))
	e.mustRun("", "token", "soon") // takes the account lock, writes again
	for _, root := range []string{e.storeDir(), home} {
		if _, err := os.Stat(root); root == home && os.IsNotExist(err) {
			continue // nothing was written outside the store
		}
		walkOrFail(t, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, _ := d.Info()
			want := fs.FileMode(0o600)
			if d.IsDir() {
				want = 0o700
			}
			if root == home && p == home {
				return nil // the test's own home directory
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("%s has mode %v, want %v", p, got, want)
			}
			return nil
		})
	}
}

func TestLoosePermissionsAreFixedWithNotice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	os.Chmod(e.storeDir(), 0o755)
	os.Chmod(filepath.Join(e.storeDir(), accounts.StoreFile), 0o644)
	r := e.mustRun("", "list")
	if strings.Count(r.stderr, "readable by others") != 2 {
		t.Fatalf("stderr %q", r.stderr)
	}
	di, _ := os.Stat(e.storeDir())
	fi, _ := os.Stat(filepath.Join(e.storeDir(), accounts.StoreFile))
	if di.Mode().Perm() != 0o700 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("modes %v %v", di.Mode().Perm(), fi.Mode().Perm())
	}
	if r := e.mustRun("", "list"); r.stderr != "" {
		t.Fatalf("notice repeated: %q", r.stderr)
	}
}

func TestTokensOnlyInTheStore(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	home := e.isolateHome()
	e.seed(e.minted("a0000001", "car", -time.Minute))
	e.mustRun("", "token", "car")
	a := e.account("car")
	record := filepath.Join(e.storeDir(), "records", a.ID+".json") // the one file that holds them
	if b, _ := os.ReadFile(record); !strings.Contains(string(b), a.RefreshToken) || !strings.Contains(string(b), a.AccessToken) {
		t.Fatalf("%s does not hold the account's tokens", record)
	}
	for _, root := range []string{e.storeDir(), home} {
		if _, err := os.Stat(root); os.IsNotExist(err) && root != e.storeDir() {
			continue
		}
		walkOrFail(t, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || p == record {
				return err
			}
			b, _ := os.ReadFile(p)
			for _, secret := range []string{a.AccessToken, a.RefreshToken} {
				if strings.Contains(string(b), secret) {
					t.Errorf("%s holds a token", p)
				}
			}
			return nil
		})
	}
}

// walkOrFail walks root and fails the test if the walk fails, so that a
// missing directory cannot pass for a clean one.
func walkOrFail(t *testing.T, root string, fn fs.WalkDirFunc) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		n++
		return fn(p, d, err)
	})
	if err != nil || n < 2 {
		t.Fatalf("walking %s: %v (%d entries)", root, err, n)
	}
}

// fakeClipboard puts an xclip on PATH that keeps the clipboard in a file
// and appends to file+".log", for every call, its arguments, its
// environment and the command line of the process that called it (keyfob,
// or keyfob's clipboard clearer, whose environment it records too).
func fakeClipboard(t *testing.T, e *env) (pathEnv, file string) {
	t.Helper()
	bin := filepath.Join(e.dir, "bin")
	os.MkdirAll(bin, 0o700)
	file = filepath.Join(e.dir, "clipboard")
	os.WriteFile(file, nil, 0o600)
	log := file + ".log"
	// /proc/PID/environ shows the environment a process started with, so
	// it is read for the clearer only: keyfob itself takes the client
	// secret out of its environment after it started.
	script := "#!/bin/sh\n{ echo \"argv: $*\"; env; caller=$(tr '\\0' ' ' < /proc/$PPID/cmdline); echo \"caller: $caller\"\n" +
		"case \"$caller\" in *clipboard-clear*) tr '\\0' '\\n' < /proc/$PPID/environ ;; esac; } >> " + log + "\n" +
		"case \"$1\" in\n  -in) cat > " + file + " ;;\n  -out) cat " + file + " ;;\nesac\n"
	if err := os.WriteFile(filepath.Join(bin, "xclip"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return "PATH=" + bin + ":" + os.Getenv("PATH"), file
}

func TestTokenCopyClearsClipboardOnlyIfUnchanged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	os.MkdirAll(e.storeDir(), 0o700)
	os.WriteFile(filepath.Join(e.storeDir(), accounts.ConfigFile), []byte(`{"clipboard_clear": "1s"}`), 0o600)
	path, clip := fakeClipboard(t, e)
	tok := e.account("car").AccessToken

	// The helper that clears the clipboard is keyfob itself, started
	// detached: this needs the real binary.
	r := e.runProcess("", []string{path, EnvClientSecret + "=s3cr3t-client-value"}, "token", "car", "--copy")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "Copied the access token of car to the system clipboard — clears in 1s.") {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if got, _ := os.ReadFile(clip); string(got) != tok {
		t.Fatal("the token did not reach the clipboard")
	}
	waitFor(t, 5*time.Second, func() bool { got, _ := os.ReadFile(clip); return len(got) == 0 })

	// No process keyfob started (the clipboard helper, the detached
	// clearer) saw the token or its digest in its arguments, nor the client
	// secret in its environment; the clearer is one of the callers.
	sum := sha256.Sum256([]byte(tok))
	log, _ := os.ReadFile(clip + ".log")
	if !strings.Contains(string(log), "caller: "+keyfobtest.Binary(t)+" clipboard-clear") {
		t.Fatalf("the clearer never called the clipboard helper:\n%s", log)
	}
	for _, leak := range []string{tok, hex.EncodeToString(sum[:]), "s3cr3t-client-value"} {
		if strings.Contains(string(log), leak) {
			t.Fatalf("a child process saw %.12s… in its argv or environment", leak)
		}
	}

	// Something else copied meanwhile is left alone. The test waits for
	// the second clearer to look (its last write into the test's
	// directory, unless it wrongly clears), then a moment for a wrong clear.
	clearerCalls := func() int {
		log, _ := os.ReadFile(clip + ".log")
		return strings.Count(string(log), "caller: "+keyfobtest.Binary(t)+" clipboard-clear")
	}
	before := clearerCalls()
	e.runProcess("", []string{path}, "token", "car", "--copy")
	os.WriteFile(clip, []byte("my shopping list"), 0o600)
	waitFor(t, 10*time.Second, func() bool { return clearerCalls() > before })
	time.Sleep(500 * time.Millisecond)
	if got, _ := os.ReadFile(clip); string(got) != "my shopping list" {
		t.Fatalf("the clipboard was cleared although it held something else: %q", got)
	}
}
