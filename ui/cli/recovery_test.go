package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestUnsavableRotationGoesToRecovery refreshes an account when the store
// cannot be written: the rotated refresh token goes to a recovery file,
// the user is told, and the next keyfob run uses it and merges it back.
// As root the store sits on a tmpfs that is filled, or remounted
// read-only, while the refresh request is at the server; without root the
// read-only case takes the write permission away instead, and the
// full-disk case cannot run. With KEYFOB_REQUIRE_MOUNT=1 (CI) a case that
// cannot run fails instead of skipping.
func TestUnsavableRotationGoesToRecovery(t *testing.T) {
	for _, how := range []string{"full", "read-only"} {
		t.Run(how, func(t *testing.T) {
			if why := mountProblem(t); why != "" && (how == "full" || os.Geteuid() == 0) {
				needMount(t, why)
			}
			e := newEnv(t, sandbox.Options{})
			home := e.isolateHome() // where the recovery file goes when the store's directory is read-only
			e.seed(e.minted("a0000001", "car", -time.Minute), e.minted("a0000002", "spare", time.Hour))
			e.mustRun("", "refresh", "spare") // the lock files exist from now on
			old := e.account("car")
			what := refreshWhileUnwritable(t, e, how, old)

			// The recovered token is used at once, without another refresh.
			refreshes := e.srv.Stats().Refreshes
			r := e.mustRun("", "token", "car")
			if e.srv.Stats().Refreshes != refreshes {
				t.Fatalf("%s: keyfob refreshed again instead of using the recovered token", what)
			}
			if info, ok := e.srv.AccessToken(strings.TrimSpace(r.stdout)); !ok || info.Revoked {
				t.Fatalf("%s: the token printed after recovery is not a live one", what)
			}
			writable(e.storeDir(), how)
			checkMergedBack(t, e, home)
		})
	}
}

// refreshWhileUnwritable runs `keyfob token car` and makes the store
// unwritable while its refresh request is at the server, after keyfob
// took its locks. It checks what the user was told, and returns what was
// done to the store. The refresh has always ended when it returns.
func refreshWhileUnwritable(t *testing.T, e *env, how string, old accounts.Account) (what string) {
	t.Helper()
	e.srv.SetLatency(time.Second)
	done := make(chan result, 1)
	go func() { done <- e.run("", "token", "car") }()
	time.Sleep(300 * time.Millisecond)
	what, err := unwritable(t, e.storeDir(), how)
	r := <-done // never leave the refresh running, whatever happens next
	e.srv.SetLatency(0)
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 1 || !strings.Contains(r.stderr, "could not be saved") || !strings.Contains(r.stderr, "recovery") {
		t.Fatalf("%s: exit %d, stderr %s", what, r.code, r.stderr)
	}
	if strings.Contains(r.stderr, old.RefreshToken) {
		t.Fatalf("%s: the error shows a token", what)
	}
	if e.srv.RefreshTokenLive(old.RefreshToken) {
		t.Fatalf("%s: the server did not rotate the token", what)
	}
	return what
}

// checkMergedBack makes the next write and checks that the recovered
// refresh token is back in the store and no recovery file is left.
func checkMergedBack(t *testing.T, e *env, home string) {
	t.Helper()
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
}

// needMount fails the test when KEYFOB_REQUIRE_MOUNT=1 (CI, where the
// proof must run) and skips it otherwise. Nothing the test started may be
// running when it is called.
func needMount(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("KEYFOB_REQUIRE_MOUNT") == "1" {
		t.Fatalf("%s, and KEYFOB_REQUIRE_MOUNT=1 requires this test to run", why)
	}
	t.Skip(why)
}

// mountProblem says why a tmpfs cannot be mounted here, or "" when one
// can (it mounts and unmounts one to find out).
func mountProblem(t *testing.T) string {
	if os.Geteuid() != 0 {
		return "mounting a tmpfs needs root"
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		return fmt.Sprintf("cannot mount a tmpfs here (%v %s)", err, bytes.TrimSpace(out))
	}
	if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
		return fmt.Sprintf("cannot unmount a tmpfs here (%v %s)", err, bytes.TrimSpace(out))
	}
	return ""
}

// unwritable makes dir refuse writes for the rest of the test: a full or
// read-only tmpfs (as root), or no write permission (read-only, as anyone
// else). It reports what it did.
func unwritable(t *testing.T, dir, how string) (string, error) {
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o500); err != nil {
			return "", err
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		return "read-only directory (mode 0500)", nil
	}
	if err := moveOntoTmpfs(t, dir); err != nil {
		return "", err
	}
	if how == "full" {
		fillUp(dir)
		return "full disk (tmpfs)", nil
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		return "", fmt.Errorf("remount ro: %v %s", err, out)
	}
	return "read-only file system (tmpfs)", nil
}

// moveOntoTmpfs mounts a small tmpfs on dir, with dir's content, until the
// end of the test.
func moveOntoTmpfs(t *testing.T, dir string) error {
	saved := t.TempDir()
	if out, err := exec.Command("cp", "-a", dir+"/.", saved).CombinedOutput(); err != nil {
		return fmt.Errorf("cp: %v %s", err, out)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("cannot mount a tmpfs on the store: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	if out, err := exec.Command("cp", "-a", saved+"/.", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("cp: %v %s", err, out)
	}
	return nil
}

// fillUp takes every free byte of dir's file system, until writable.
func fillUp(dir string) {
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		return // already full
	}
	defer filler.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := filler.Write(buf); err != nil {
			return
		}
	}
}

// writable undoes unwritable.
func writable(dir, how string) {
	switch {
	case how == "full":
		os.Remove(filepath.Join(dir, "filler"))
	case os.Geteuid() == 0:
		exec.Command("mount", "-o", "remount,rw", dir).Run()
	default:
		os.Chmod(dir, 0o700)
	}
}
