package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/oauthtest"
)

// Security checks seen from the outside: file modes, loose
// modes fixed with a notice, no token in any file but the store, and the
// clipboard cleared after the delay only when it still holds the token.
// (Loopback-only listeners, state and PKCE are tested in ./oauth and
// ./oauth/oauthtest; secrets in argv and errors in process_test.go and
// bad_input_test.go.)

func TestFilesArePrivate(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	home := e.isolateHome()
	e.mustRun("", "login", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", oauthtest.FleetClientID)
	e.seed(e.minted("a9", "soon", -time.Minute))
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
	e := newEnv(t, oauthtest.Options{})
	e.seed(e.minted("a1", "car", time.Hour))
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
	e := newEnv(t, oauthtest.Options{})
	home := e.isolateHome()
	e.seed(e.minted("a1", "car", -time.Minute))
	e.mustRun("", "token", "car")
	a := e.account("car")
	for _, root := range []string{e.storeDir(), home} {
		if _, err := os.Stat(root); os.IsNotExist(err) && root != e.storeDir() {
			continue
		}
		walkOrFail(t, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Base(p) == accounts.StoreFile {
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

// fakeClipboard puts an xclip on PATH that keeps the clipboard in a file.
func fakeClipboard(t *testing.T, e *env) (pathEnv, file string) {
	t.Helper()
	bin := filepath.Join(e.dir, "bin")
	os.MkdirAll(bin, 0o700)
	file = filepath.Join(e.dir, "clipboard")
	os.WriteFile(file, nil, 0o600)
	script := "#!/bin/sh\ncase \"$1\" in\n  -in) cat > " + file + " ;;\n  -out) cat " + file + " ;;\nesac\n"
	if err := os.WriteFile(filepath.Join(bin, "xclip"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return "PATH=" + bin + ":" + os.Getenv("PATH"), file
}

func TestTokenCopyClearsClipboardOnlyIfUnchanged(t *testing.T) {
	e := newEnv(t, oauthtest.Options{})
	e.seed(e.minted("a1", "car", time.Hour))
	os.MkdirAll(e.storeDir(), 0o700)
	os.WriteFile(filepath.Join(e.storeDir(), accounts.ConfigFile), []byte(`{"clipboard_clear": "1s"}`), 0o600)
	path, clip := fakeClipboard(t, e)
	tok := e.account("car").AccessToken

	// The helper that clears the clipboard is keyfob itself, started
	// detached: this needs the real binary.
	r := e.runProcess("", []string{path}, "token", "car", "--copy")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "clears in 1s") {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if got, _ := os.ReadFile(clip); string(got) != tok {
		t.Fatal("the token did not reach the clipboard")
	}
	waitFor(t, 5*time.Second, func() bool { got, _ := os.ReadFile(clip); return len(got) == 0 })

	// Something else copied meanwhile is left alone.
	e.runProcess("", []string{path}, "token", "car", "--copy")
	os.WriteFile(clip, []byte("my shopping list"), 0o600)
	time.Sleep(2 * time.Second)
	if got, _ := os.ReadFile(clip); string(got) != "my shopping list" {
		t.Fatalf("the clipboard was cleared although it held something else: %q", got)
	}
}
