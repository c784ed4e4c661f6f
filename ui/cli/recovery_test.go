//go:build unix

package cli

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestUnsavableRotationGoesToRecovery refreshes an account while its
// store stops taking writes, when the refresh request is at the server.
// As root the store sits on a tmpfs that is filled, or remounted
// read-only, meanwhile; without root the read-only case takes the write
// permission of the store's directories away instead, and the full-disk
// case cannot run. With KEYFOB_REQUIRE_MOUNT=1 (CI) a case that cannot run
// fails instead of skipping.
//
// A full disk costs nothing: keyfob set aside the record's write before
// it asked, so the refresh is saved as usual. A read-only store cannot
// take it: the rotated refresh token goes to a recovery file, the user is
// told, the next keyfob run uses it, and the account's next refresh puts
// it back in the record.
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
			if how == "full" {
				// The store lives on a small file system, which fills up
				// while the request is out.
				if err := moveOntoTmpfs(t, e.storeDir()); err != nil {
					t.Fatal(err)
				}
			}
			old := e.account("car")
			what, r := refreshWhileUnwritable(t, e, how, old)
			if e.srv.RefreshTokenLive(old.RefreshToken) {
				t.Fatalf("%s: the server did not rotate the token", what)
			}
			if strings.Contains(r.stderr, old.RefreshToken) {
				t.Fatalf("%s: the error shows a token", what)
			}
			if how == "full" {
				if r.code != 0 || strings.Contains(r.stderr, "recovery") {
					t.Fatalf("%s: exit %d, stderr %s", what, r.code, r.stderr)
				}
				checkInRecord(t, e, home, what, strings.TrimSpace(r.stdout))
				writable(e.storeDir(), how)
				return
			}
			if r.code != 1 || !strings.Contains(r.stderr, "could not be saved") || !strings.Contains(r.stderr, "recovery") {
				t.Fatalf("%s: exit %d, stderr %s", what, r.code, r.stderr)
			}
			// The recovered token is used at once, without another refresh.
			refreshes := e.srv.Stats().Refreshes
			r = e.mustRun("", "token", "car")
			if e.srv.Stats().Refreshes != refreshes {
				t.Fatalf("%s: keyfob refreshed again instead of using the recovered token", what)
			}
			if info, ok := e.srv.AccessToken(strings.TrimSpace(r.stdout)); !ok || info.Revoked {
				t.Fatalf("%s: the token printed after recovery is not a live one", what)
			}
			writable(e.storeDir(), how)
			// The next refresh starts from the recovered refresh token (the
			// one before it is spent) and puts its successor in the record.
			r = e.mustRun("", "refresh", "car")
			checkInRecord(t, e, home, what, "")
		})
	}
}

// refreshWhileUnwritable runs `keyfob token car` and makes the store
// unwritable while its refresh request is at the server, after keyfob
// took its locks and set aside its write. It returns what was done to the
// store and what keyfob said. The refresh has always ended when it
// returns.
func refreshWhileUnwritable(t *testing.T, e *env, how string, old accounts.Account) (string, result) {
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
	return what, r
}

// checkInRecord checks that car's record file holds its refresh token,
// which is the live one, and access token printed (when not ""), and that
// no recovery file is left.
func checkInRecord(t *testing.T, e *env, home, what, printed string) {
	t.Helper()
	a := e.account("car")
	raw, _ := os.ReadFile(filepath.Join(e.storeDir(), "records", a.ID+".json"))
	if !bytes.Contains(raw, []byte(a.RefreshToken)) || !e.srv.RefreshTokenLive(a.RefreshToken) {
		t.Fatalf("%s: the record of car does not hold its live refresh token", what)
	}
	if printed != "" && (a.AccessToken != printed || !bytes.Contains(raw, []byte(printed))) {
		t.Fatalf("%s: the record of car does not hold the access token keyfob printed", what)
	}
	leftovers, _ := filepath.Glob(filepath.Join(home, ".state", "keyfob", "*", "recovery", "*"))
	more, _ := filepath.Glob(filepath.Join(e.storeDir(), "recovery", "*"))
	for _, p := range append(leftovers, more...) {
		t.Errorf("%s: recovery file %s is still there", what, p)
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

// unwritable makes dir refuse writes for the rest of the test: its tmpfs
// filled (full, as root), a read-only tmpfs in its place (as root), or no
// write permission (read-only, as anyone else). It reports what it did.
func unwritable(t *testing.T, dir, how string) (string, error) {
	if os.Geteuid() != 0 {
		if err := chmodDirs(dir, 0o500); err != nil {
			return "", err
		}
		t.Cleanup(func() { _ = chmodDirs(dir, 0o700) })
		return "read-only directories (mode 0500)", nil
	}
	if how == "full" { // on a tmpfs already
		fillUp(dir)
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil || st.Bavail != 0 {
			return "", fmt.Errorf("the tmpfs is not full: %d blocks free (%v)", st.Bavail, err)
		}
		return "full disk (tmpfs)", nil
	}
	// Another file system takes the store's place, and is read-only by
	// the time the answer comes (a file system cannot be remounted
	// read-only while keyfob holds a file open for writing on it).
	if err := moveOntoTmpfs(t, dir); err != nil {
		return "", err
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
	for n := len(buf); n > 0; n /= 2 {
		for {
			if _, err := filler.Write(buf[:n]); err != nil {
				break
			}
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
		_ = chmodDirs(dir, 0o700)
	}
}

// chmodDirs sets the mode of dir and of every directory in it.
func chmodDirs(dir string, mode os.FileMode) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return err
	})
	// The deepest first: a directory without write permission can still
	// be entered, but the order keeps a failure from stranding others.
	for i := len(dirs) - 1; i >= 0; i-- {
		if cerr := os.Chmod(dirs[i], mode); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}
