package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/oauthtest"
)

// unwritable makes dir refuse writes for the rest of the test: a full
// tmpfs (as root), or no write permission (as anyone else). It reports
// what it did, or skips the test when neither is possible here.
func unwritable(t *testing.T, dir, how string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if how == "full" {
			t.Skip("filling a disk needs a tmpfs mount, which needs root")
		}
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		return "read-only directory (mode 0500)"
	}
	// Move the store onto a small tmpfs of its own.
	saved := t.TempDir()
	if out, err := exec.Command("cp", "-a", dir+"/.", saved).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v %s)", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	if out, err := exec.Command("cp", "-a", saved+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if how == "full" {
		filler, _ := os.Create(filepath.Join(dir, "filler"))
		buf := make([]byte, 64<<10)
		for {
			if _, err := filler.Write(buf); err != nil {
				break
			}
		}
		filler.Close()
		t.Cleanup(func() { os.Remove(filepath.Join(dir, "filler")) })
		return "full disk (tmpfs)"
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount ro: %v %s", err, out)
	}
	return "read-only file system (tmpfs)"
}

// TestUnsavableRotationGoesToRecovery refreshes an account when the store
// cannot be written: the rotated refresh token goes to a recovery file,
// the user is told, and the next keyfob run uses it and merges it back.
func TestUnsavableRotationGoesToRecovery(t *testing.T) {
	for _, how := range []string{"full", "read-only"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t, oauthtest.Options{})
			home := e.isolateHome() // where the recovery file goes when the store's directory is read-only
			e.seed(e.minted("a0000001", "car", -time.Minute), e.minted("a0000002", "spare", time.Hour))
			e.mustRun("", "refresh", "spare") // the lock files exist from now on
			old := e.account("car")
			// The store stops taking writes while the refresh request is
			// at the server, after keyfob took its locks.
			e.srv.SetLatency(time.Second)
			done := make(chan result, 1)
			go func() { done <- e.run("", "token", "car") }()
			time.Sleep(300 * time.Millisecond)
			what := unwritable(t, e.storeDir(), how)
			r := <-done
			e.srv.SetLatency(0)
			if r.code != 1 || !strings.Contains(r.stderr, "could not be saved") || !strings.Contains(r.stderr, "recovery") {
				t.Fatalf("%s: exit %d, stderr %s", what, r.code, r.stderr)
			}
			if strings.Contains(r.stderr, old.RefreshToken) {
				t.Fatal("the error shows a token")
			}
			if e.srv.RefreshTokenLive(old.RefreshToken) {
				t.Fatal("the server did not rotate the token")
			}
			// The recovered token is used at once, without another refresh.
			refreshes := e.srv.Stats().Refreshes
			r = e.mustRun("", "token", "car")
			if e.srv.Stats().Refreshes != refreshes {
				t.Fatal("keyfob refreshed again instead of using the recovered token")
			}
			if info, ok := e.srv.AccessToken(strings.TrimSpace(r.stdout)); !ok || info.Revoked {
				t.Fatal("the token printed after recovery is not a live one")
			}
			// Once the store is writable again, the next write merges it back.
			if how == "full" {
				os.Remove(filepath.Join(e.storeDir(), "filler"))
			} else if os.Geteuid() == 0 {
				exec.Command("mount", "-o", "remount,rw", e.storeDir()).Run()
			} else {
				os.Chmod(e.storeDir(), 0o700)
			}
			e.mustRun("", "refresh", "spare")
			raw, _ := os.ReadFile(filepath.Join(e.storeDir(), accounts.StoreFile))
			a := e.account("car")
			if !bytes.Contains(raw, []byte(a.RefreshToken)) || !e.srv.RefreshTokenLive(a.RefreshToken) {
				t.Fatal("the recovered refresh token did not make it back into the store")
			}
			leftovers, _ := filepath.Glob(filepath.Join(home, ".state", "keyfob", "*"+accounts.RecoveryFile))
			for _, p := range append(leftovers, filepath.Join(e.storeDir(), accounts.RecoveryFile)) {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("recovery file %s is still there after the merge", p)
				}
			}
		})
	}
}
