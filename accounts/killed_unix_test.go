//go:build unix

package accounts

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// killedWriterEnv turns the test binary into the writer that
// TestKillMidWriteLosesNothing kills: its value is the store directory.
const killedWriterEnv = "KEYFOB_TEST_KILLED_WRITER"

// TestKilledWriterHelper is not a test: run with killedWriterEnv set, it
// takes an account's lock and writes a new refresh token to its record,
// and stops for good between writing the temporary file and renaming it,
// where it waits to be killed.
func TestKilledWriterHelper(t *testing.T) {
	t.Parallel()
	dir := os.Getenv(killedWriterEnv)
	if dir == "" {
		return
	}
	m, _ := Open("", Options{Dir: dir})
	s := storeOf(m)
	ctx := context.Background()
	if _, err := m.lockAccount(ctx, "000000a1", "home"); err != nil {
		fmt.Println("lock:", err)
		os.Exit(1)
	}
	a, err := m.Get(ctx, "000000a1")
	if err != nil {
		fmt.Println("get:", err)
		os.Exit(1)
	}
	s.faults = func(step, path string) error {
		if step == stepRename && path == s.recordPath("000000a1") {
			fmt.Println("READY")
			select {}
		}
		return nil
	}
	pw, err := s.prepare(ctx, a)
	if err == nil {
		a.RefreshToken = "rt-never-stored"
		_, _ = pw.commit(a)
	}
	fmt.Println("prepare:", err)
	os.Exit(1)
}

// TestKillMidWriteLosesNothing kills (SIGKILL) a process that holds an
// account's lock, its new record written to the temporary file but not
// yet renamed. The record must read as it was, the lock must be free at
// once, and the next write of the account must remove the temporary file,
// which holds tokens.
func TestKillMidWriteLosesNothing(t *testing.T) {
	t.Parallel()
	m := newStoreManager(t, nil)
	storeOf(m).lockTimeout = 2 * time.Second
	seed(t, m, Account{ID: "000000a1", Name: "home", RefreshToken: "rt-store"})
	tmp := recordTemp(storeOf(m).recordPath("000000a1"))

	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterHelper$")
	cmd.Env = append(os.Environ(), killedWriterEnv+"="+m.Dir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(out)
	for lines.Scan() && lines.Text() != "READY" {
		t.Log("writer:", lines.Text())
	}
	if lines.Err() != nil || lines.Text() != "READY" {
		t.Fatalf("the writer did not reach its rename: %v", lines.Err())
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("the writer left no temporary file to find (%v); the test no longer kills it mid-write", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	o := reopen(t, m)
	if a, err := o.Get(context.Background(), "000000a1"); err != nil || a.RefreshToken != "rt-store" {
		t.Fatalf("after the kill the record reads %+v (%v), want it as it was", a, err)
	}
	if _, err := o.Rename(context.Background(), "000000a1", "garage"); err != nil {
		t.Fatalf("the killed process's lock is still held: %v", err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("the next write left the killed writer's temporary file: %v", err)
	}
}
