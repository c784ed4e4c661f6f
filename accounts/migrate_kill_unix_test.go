//go:build unix

package accounts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// migratorEnv turns the test binary into the process that
// TestMigrationSurvivesSIGKILL kills: its value is the store directory,
// which it opens (and so migrates) before it exits.
const migratorEnv = "KEYFOB_TEST_MIGRATOR"

// TestMigratorHelper is not a test: run with migratorEnv set, it opens
// the store, which migrates it, and exits.
func TestMigratorHelper(t *testing.T) {
	t.Parallel()
	dir := os.Getenv(migratorEnv)
	if dir == "" {
		return
	}
	m, _ := Open("", Options{Dir: dir})
	if _, err := m.List(context.Background()); err != nil {
		fmt.Println("migrate:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestMigrationSurvivesSIGKILL migrates a version 2 store of a few hundred
// accounts in a process killed at a random instant, over and over (100
// kills; KEYFOB_MIGRATION_KILLS sets another number). After each kill the
// store is the old one, byte for byte, or the new one complete; the next
// keyfob run finishes the job; and every account ends with its newest
// refresh token (some of them from the old keyfob's recovery file) and its
// consumer.
func TestMigrationSurvivesSIGKILL(t *testing.T) {
	t.Parallel() // a long one, mostly waiting: it runs beside the others
	kills := 100
	if s := os.Getenv("KEYFOB_MIGRATION_KILLS"); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	const n = 200
	// A kill tests what a dead process leaves, not what a power cut does:
	// in memory where there is a tmpfs, the syncs cost nothing.
	root := memDir(t)
	bin := migratorBinary(t)
	// How long a whole migration takes here: kills land anywhere in it.
	dir := filepath.Join(root, "measure")
	oldStore(t, dir, n)
	start := time.Now()
	if err := migrator(bin, dir).Run(); err != nil {
		t.Fatalf("an unkilled migration: %v", err)
	}
	span := time.Since(start)
	t.Logf("a migration of %d accounts in a new process takes %v", n, span)

	outcomes := map[string]int{}
	for i := range kills {
		dir := filepath.Join(root, strconv.Itoa(i))
		want := oldStore(t, dir, n)
		before, _ := os.ReadFile(filepath.Join(dir, StoreFile))
		cmd := migrator(bin, dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.Int64N(int64(span) * 12 / 10)))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		outcomes[checkAfterKill(t, dir, before)]++
		// The next run finishes (or redoes) the migration.
		if out, err := migrator(bin, dir).CombinedOutput(); err != nil {
			t.Fatalf("kill %d: the next run: %v\n%s", i, err, out)
		}
		m := reopenDir(t, dir)
		accts, err := m.List(context.Background())
		if err != nil {
			t.Fatalf("kill %d: the next run cannot read the store: %v", i, err)
		}
		if len(accts) != n {
			t.Fatalf("kill %d: %d accounts, want %d", i, len(accts), n)
		}
		for _, a := range accts {
			if a.RefreshToken != want[a.ID] {
				t.Fatalf("kill %d: %s holds %q, want %q", i, a.Name, a.RefreshToken, want[a.ID])
			}
		}
		if cs, err := m.Consumers(context.Background()); err != nil || len(cs) != n {
			t.Fatalf("kill %d: %d consumers (%v), want %d", i, len(cs), err, n)
		}
		_ = os.RemoveAll(dir)
	}
	t.Logf("%d kills: %v", kills, outcomes)
	if outcomes["old"] == 0 || outcomes["new"] == 0 {
		t.Logf("every kill landed on the same side; the spread of kill times may be off")
	}
}

// migratorBinary is the test binary that migrates: this one, or, when it
// carries the race detector (whose start alone takes longer than the
// migration, so that kills would land before it), the same tests built
// without it.
func migratorBinary(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return os.Args[0]
	}
	bin := filepath.Join(t.TempDir(), "accounts.test")
	if out, err := exec.Command("go", "test", "-c", "-o", bin, "github.com/keyfob/keyfob/accounts").CombinedOutput(); err != nil {
		t.Fatalf("building the tests without the race detector: %v\n%s", err, out)
	}
	return bin
}

func migrator(bin, dir string) *exec.Cmd {
	cmd := exec.Command(bin, "-test.run=^TestMigratorHelper$")
	cmd.Env = append(os.Environ(), migratorEnv+"="+dir)
	return cmd
}

// checkAfterKill reads the store a killed migration left, without
// changing it: accounts.json is the old store byte for byte ("old"), or
// the new marker, with every record readable ("new").
func checkAfterKill(t *testing.T, dir string, before []byte) string {
	t.Helper()
	now, err := os.ReadFile(filepath.Join(dir, StoreFile))
	if err != nil {
		t.Fatalf("accounts.json is gone after a kill: %v", err)
	}
	if bytes.Equal(now, before) {
		return "old"
	}
	var mk marker
	if json.Unmarshal(now, &mk) != nil || mk.Version != CurrentVersion || mk.Layout != layoutRecords {
		t.Fatalf("accounts.json is neither the old store nor the new marker after a kill:\n%s", now)
	}
	bak, err := os.ReadFile(filepath.Join(dir, StoreFile+".bak-v2"))
	if err != nil || !bytes.Equal(bak, before) {
		t.Fatalf("the new store has no exact backup of the old one: %v", err)
	}
	s := &fileStore{dir: dir}
	snap, err := s.loadAll()
	if err != nil {
		t.Fatalf("the new store does not read: %v", err)
	}
	if len(snap.Accounts) == 0 || len(snap.Consumers) == 0 {
		t.Fatalf("the new store is incomplete: %d accounts, %d consumers", len(snap.Accounts), len(snap.Consumers))
	}
	return "new"
}
