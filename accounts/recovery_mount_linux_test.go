//go:build linux

package accounts_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// helperEnv names the environment variable that turns the test binary into
// the second keyfob process of TestRecoveryKeepsEveryRotation: "DIR|ID,ID…"
// refreshes those accounts of the store in DIR.
const helperEnv = "KEYFOB_TEST_REFRESH_HELPER"

// TestHelperProcess is not a test: run with helperEnv set, it is the
// second process, which refreshes its accounts with RefreshMany and prints
// one "RESULT id outcome" line per account.
func TestHelperProcess(t *testing.T) {
	t.Parallel()
	spec := os.Getenv(helperEnv)
	if spec == "" {
		return
	}
	dir, ids, _ := strings.Cut(spec, "|")
	m, err := accounts.Open("", accounts.Options{Dir: dir, Auth: &oauth.Engine{}})
	if err != nil {
		fmt.Println("RESULT - open:", err)
		os.Exit(1)
	}
	var seen []accounts.Account
	for _, id := range strings.Split(ids, ",") {
		a, err := m.Get(context.Background(), id)
		if err != nil {
			fmt.Println("RESULT - get:", err)
			os.Exit(1)
		}
		seen = append(seen, a)
	}
	fmt.Println("READY")
	for i, r := range m.RefreshMany(context.Background(), seen, 8, 0, accounts.Explicit, nil) {
		fmt.Println("RESULT", seen[i].ID, outcome(r.Err))
	}
	os.Exit(0)
}

// outcome sums up a refresh result: "unsaved PATH" for a rotated token
// kept in a recovery file, "refused" for a refresh not sent because its
// answer could not have been saved, "ok", or the error.
func outcome(err error) string {
	var ue *accounts.UnsavedError
	var nr *accounts.NotRefreshedError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ue) && ue.RecoveryPath != "":
		return "unsaved " + ue.RecoveryPath
	case errors.As(err, &nr):
		return "refused"
	}
	return "error " + strings.ReplaceAll(err.Error(), "\n", " ")
}

// needMount fails the test when KEYFOB_REQUIRE_MOUNT=1 (CI, where the
// proof must run) and skips it otherwise.
func needMount(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("KEYFOB_REQUIRE_MOUNT") == "1" {
		t.Fatalf("%s, and KEYFOB_REQUIRE_MOUNT=1 requires this test to run", why)
	}
	t.Skip(why)
}

// mountTmpfs moves the content of dir onto a small tmpfs mounted there,
// unmounted at the end of the test.
func mountTmpfs(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		needMount(t, "mounting a tmpfs needs root")
	}
	saved := t.TempDir()
	copyTree(t, dir, saved)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		needMount(t, fmt.Sprintf("cannot mount a tmpfs here (%v %s)", err, out))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	copyTree(t, saved, dir)
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fill takes every free byte of the file system of dir, until undo.
func fill(t *testing.T, dir string) (undo func()) {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	return func() { os.Remove(p) }
}

func remount(t *testing.T, dir, mode string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+mode, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s: %v %s", mode, err, out)
	}
}

// TestRecoveryKeepsEveryRotation refreshes 24 accounts from two processes
// at once (RefreshMany with concurrency 8 in each) while the store cannot
// take writes: a tmpfs full before the refreshes start, or remounted
// read-only (each answer's place is prepared before its request in a
// recovery file in the XDG state directory, which the next write merges),
// and one that fills while the requests are at the server (the room each
// save needs was set aside before its request, so every rotation is
// stored). A remount while the
// requests are out is not possible: the files prepared for their answers
// keep the file system busy. At the end the store holds every account's
// live refresh token, and no other refresh token is live.
func TestRecoveryKeepsEveryRotation(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"full", "filling", "read-only"} {
		t.Run(how, func(t *testing.T) { testRecovery(t, how) })
	}
}

func testRecovery(t *testing.T, how string) {
	const n = 24
	e := newSandbox(t, sandbox.Options{})
	var accts []accounts.Account
	for i := range n {
		accts = append(accts, e.minted(i, time.Hour))
	}
	e.seed(accts...)
	// One normal round first: the lock files exist from then on, as they
	// do for anyone who has used keyfob.
	for i, r := range e.manager().RefreshMany(context.Background(), accts, 8, 0, accounts.Explicit, nil) {
		if r.Err != nil {
			t.Fatalf("warm-up refresh of %s: %v", accts[i].Name, r.Err)
		}
	}
	mountTmpfs(t, e.dir)
	restore := func() {}
	switch how {
	case "full":
		restore = fill(t, e.dir)
	case "read-only":
		remount(t, e.dir, "ro")
		restore = func() { remount(t, e.dir, "rw") }
	}
	// The requests wait at the server long enough for the disk to fill or
	// be remounted while they are there.
	e.srv.SetLatency(1500 * time.Millisecond)
	before := e.srv.Stats().Refreshes
	seen := e.load().Accounts
	var mine, theirs []accounts.Account
	for i, a := range seen {
		if i%2 == 0 {
			mine = append(mine, a)
		} else {
			theirs = append(theirs, a)
		}
	}
	child, lines := startHelper(t, e.dir, theirs)
	var res []accounts.RefreshManyResult
	var wg sync.WaitGroup
	wg.Go(func() { res = e.manager().RefreshMany(context.Background(), mine, 8, 0, accounts.Explicit, nil) })
	t.Cleanup(wg.Wait) // before the unmount, should the test stop early
	if how == "filling" {
		// The disk fills once every refresh has set aside the room for
		// its save: its record's temporary file.
		prepared := func() bool {
			temps, _ := filepath.Glob(filepath.Join(e.dir, "records", ".*.json.tmp"))
			return len(temps) == n
		}
		if !keyfobtest.Within(30*time.Second, prepared) {
			t.Fatal("the refreshes did not all set aside room for their saves within 30 s")
		}
		restore = fill(t, e.dir)
	}
	wg.Wait()
	outcomes := collect(t, child, lines)
	for i, r := range res {
		outcomes[mine[i].ID] = outcome(r.Err)
	}
	e.srv.SetLatency(0)
	checkOutcomes(t, e, how, outcomes, n)
	rotations := e.srv.Stats().Refreshes - before

	restore()
	// Any write merges the recovery files back.
	if _, err := e.manager().Put(context.Background(), accounts.Account{Name: "another"}); err != nil {
		t.Fatal(err)
	}
	recovered := checkLive(t, e)
	t.Logf("%s: %d accounts, %d rotations during the outage, %d of %d stored refresh tokens live after the merge",
		how, n, rotations, recovered, n)
	if rotations != n {
		t.Errorf("%d rotations at the server, want one per account (%d)", rotations, n)
	}
}

// startHelper starts the second process on accts and waits until it is
// about to refresh. It is killed at the end of the test if still running.
func startHelper(t *testing.T, dir string, accts []accounts.Account) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	ids := make([]string, len(accts))
	for i, a := range accts {
		ids[i] = a.ID
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir+"|"+strings.Join(ids, ","))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if lines.Text() == "READY" {
			return cmd, lines
		}
	}
	t.Fatalf("the second process did not start: %v", lines.Err())
	return nil, nil
}

// collect reads the second process's results and waits for it.
func collect(t *testing.T, cmd *exec.Cmd, lines *bufio.Scanner) map[string]string {
	t.Helper()
	got := map[string]string{}
	for lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "RESULT "); ok {
			id, what, _ := strings.Cut(rest, " ")
			got[id] = what
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the second process: %v", err)
	}
	return got
}

// checkOutcomes checks what became of every account's refresh: with a
// filling disk every rotation was stored, with a full or read-only one
// every rotated token went to a recovery file under the XDG state
// directory.
func checkOutcomes(t *testing.T, e *sandboxEnv, how string, outcomes map[string]string, n int) {
	t.Helper()
	if len(outcomes) != n {
		t.Fatalf("%d results for %d accounts: %v", len(outcomes), n, outcomes)
	}
	state := stateOf(t, e.dir)
	for id, what := range outcomes {
		switch how {
		case "filling":
			if what != "ok" {
				t.Errorf("account %s: %s; want the rotation stored in the room set aside for it", id, what)
			}
		default:
			path, ok := strings.CutPrefix(what, "unsaved ")
			if !ok || !strings.HasPrefix(path, state) {
				t.Errorf("account %s: %s; want its token kept in a recovery file under %s", id, what, state)
			}
		}
	}
}

// checkLive checks that the store holds every account's live refresh
// token and that no other refresh token is live (none was lost), and that
// no recovery file is left. It returns how many accounts are live.
func checkLive(t *testing.T, e *sandboxEnv) int {
	t.Helper()
	live := 0
	for _, a := range e.load().Accounts {
		if a.RefreshToken == "" {
			continue
		}
		if e.srv.RefreshTokenLive(a.RefreshToken) {
			live++
		} else {
			t.Errorf("%s: the stored refresh token is dead: its rotated one was lost", a.Name)
		}
	}
	if all := e.srv.LiveRefreshTokens(); all != live {
		t.Errorf("%d live refresh tokens at the server, %d in the store", all, live)
	}
	files, _ := filepath.Glob(filepath.Join(stateOf(t, e.dir), "recovery", "*.json"))
	more, _ := filepath.Glob(filepath.Join(e.dir, "recovery", "*.json"))
	for _, p := range append(files, more...) {
		t.Errorf("the recovery file %s is still there after the merge", p)
	}
	return live
}
