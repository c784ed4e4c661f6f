//go:build unix

package accounts

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// killedWriterEnv turns the test binary into the writer that
// TestKillMidWriteLosesNothing kills: its value is the store directory.
const killedWriterEnv = "KEYFOB_TEST_KILLED_WRITER"

// TestKilledWriterHelper is not a test: run with killedWriterEnv set, it
// takes an account's lock and writes a new refresh token to the store, and
// stops for good between writing the temporary file and renaming it, where
// it waits to be killed.
func TestKilledWriterHelper(t *testing.T) {
	dir := os.Getenv(killedWriterEnv)
	if dir == "" {
		return
	}
	s := Open(dir)
	if _, err := s.LockAccount(context.Background(), "000000a1", "home"); err != nil {
		fmt.Println("lock:", err)
		os.Exit(1)
	}
	s.faults = func(step, path string) error {
		if step == stepRename && path == s.Path() {
			fmt.Println("READY")
			select {}
		}
		return nil
	}
	_ = s.Update(context.Background(), func(f *File) error {
		f.Accounts[0].RefreshToken = "rt-never-stored"
		return nil
	})
	os.Exit(1)
}

// TestKillMidWriteLosesNothing kills (SIGKILL) a process that holds an
// account's lock and the store lock, its new store written to a temporary
// file but not yet renamed. The store must read as it was, both locks must
// be free at once, and the next write must remove the temporary file, which
// holds tokens.
func TestKillMidWriteLosesNothing(t *testing.T) {
	s := newStore(t)
	s.LockTimeout = 2 * time.Second
	seed(t, s, Account{ID: "000000a1", Name: "home", RefreshToken: "rt-store"})

	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterHelper$")
	cmd.Env = append(os.Environ(), killedWriterEnv+"="+s.Dir())
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
	if len(temporaries(t, s)) == 0 {
		t.Fatal("the writer left no temporary file to find; the test no longer kills it mid-write")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	if f, err := s.Load(); err != nil || f.Accounts[0].RefreshToken != "rt-store" {
		t.Fatalf("after the kill the store reads %+v (%v), want it as it was", f, err)
	}
	unlock, err := s.LockAccount(context.Background(), "000000a1", "home")
	if err != nil {
		t.Fatalf("the killed process's account lock is still held: %v", err)
	}
	unlock()
	if err := s.Update(context.Background(), func(f *File) error { f.Accounts[0].Name = "garage"; return nil }); err != nil {
		t.Fatalf("the killed process's store lock is still held: %v", err)
	}
	if left := temporaries(t, s); len(left) > 0 {
		t.Fatalf("the next write left the killed writer's temporary files: %v", left)
	}
}

// temporaries lists the temporary store files in s's directory.
func temporaries(t *testing.T, s *Store) []string {
	t.Helper()
	entries, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if rest, ok := strings.CutPrefix(e.Name(), "."+StoreFile); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			out = append(out, filepath.Join(s.Dir(), e.Name()))
		}
	}
	return out
}
