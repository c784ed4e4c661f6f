//go:build unix

package clipboard

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fileClipboard is a clipboard kept in a file, so that a test and a
// clearer process can share it.
type fileClipboard string

func (f fileClipboard) ReadAll() (string, error) {
	b, err := os.ReadFile(string(f))
	return string(b), err
}

func (f fileClipboard) WriteAll(s string) error { return os.WriteFile(string(f), []byte(s), 0o600) }

// TestMain doubles as the clearer: started with KEYFOB_CLIP_TEST_BOARD set,
// the test binary records how it was started and serves one request.
func TestMain(m *testing.M) {
	board := os.Getenv("KEYFOB_CLIP_TEST_BOARD")
	if board == "" {
		os.Exit(m.Run())
	}
	if secret := os.Getenv("KEYFOB_CLIP_TEST_SCHEDULE"); secret != "" {
		// Play keyfob token --copy: schedule the clearing, then exit at
		// once, before the clearer has read anything.
		_ = os.Unsetenv("KEYFOB_CLIP_TEST_SCHEDULE")
		if err := (Clearer{Path: os.Args[0], Args: []string{"-test.run=^$"}}).Schedule(secret, 200*time.Millisecond); err != nil {
			os.Exit(3)
		}
		os.Exit(0)
	}
	sid, _ := unix.Getsid(0)
	seen, _ := json.Marshal(map[string]any{"args": os.Args, "env": os.Environ(), "sid": sid})
	_ = os.WriteFile(board+".seen", seen, 0o600)
	if _, err := Serve(context.Background(), os.Stdin, fileClipboard(board)); err != nil {
		_ = os.WriteFile(board+".err", []byte(err.Error()), 0o600)
	}
	os.Exit(0)
}

func startClearer(t *testing.T, secret, onBoard string, after time.Duration) (board string) {
	t.Helper()
	board = filepath.Join(t.TempDir(), "board")
	if err := os.WriteFile(board, []byte(onBoard), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEYFOB_CLIP_TEST_BOARD", board)
	t.Setenv("KEYFOB_CLIENT_SECRET", "client-secret-that-must-not-leak")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := (Clearer{Path: self, Args: []string{"-test.run=^$"}}).Schedule(secret, after); err != nil {
		t.Fatal(err)
	}
	return board
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The clearer runs detached, learns only a digest on stdin (nothing of the
// token in its arguments, no client secret in its environment) and clears
// the clipboard when it still holds the token.
func TestScheduleClearsInADetachedProcess(t *testing.T) {
	const token = "eyJhbGciOiJIUzI1NiJ9.access-token-value.sig"
	board := startClearer(t, token, token, 200*time.Millisecond)
	waitFor(t, "the clearer to record itself", func() bool { _, err := os.Stat(board + ".seen"); return err == nil })
	waitFor(t, "the clipboard to be cleared", func() bool { b, _ := os.ReadFile(board); return len(b) == 0 })

	var seen struct {
		Args []string
		Env  []string
		Sid  int
	}
	b, _ := os.ReadFile(board + ".seen")
	if err := json.Unmarshal(b, &seen); err != nil {
		t.Fatal(err)
	}
	args := strings.Join(seen.Args, " ")
	if strings.Contains(args, token) || strings.Contains(args, digest(token)) {
		t.Errorf("the clearer's argv carries the token or its digest: %q", args)
	}
	for _, kv := range seen.Env {
		if strings.HasPrefix(kv, "KEYFOB_CLIENT_SECRET=") {
			t.Errorf("the clearer inherited %s", kv)
		}
	}
	if mine, _ := unix.Getsid(0); seen.Sid == mine {
		t.Errorf("the clearer runs in keyfob's session %d: a hang-up would kill it", mine)
	}
}

// The process that copied may exit right after scheduling: the clearer
// still gets its request and clears.
func TestScheduleOutlivesTheCopyingProcess(t *testing.T) {
	board := filepath.Join(t.TempDir(), "board")
	if err := os.WriteFile(board, []byte("the-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), "KEYFOB_CLIP_TEST_BOARD="+board, "KEYFOB_CLIP_TEST_SCHEDULE=the-token")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the copying process: %v %s", err, out)
	}
	waitFor(t, "the clipboard to be cleared", func() bool { b, _ := os.ReadFile(board); return len(b) == 0 })
}

// Something the user copied after the token is left alone.
func TestScheduleLeavesWhatTheUserCopiedSince(t *testing.T) {
	board := startClearer(t, "the-token", "something else", 100*time.Millisecond)
	waitFor(t, "the clearer to record itself", func() bool { _, err := os.Stat(board + ".seen"); return err == nil })
	time.Sleep(400 * time.Millisecond)
	if b, _ := os.ReadFile(board); string(b) != "something else" {
		t.Fatalf("the clipboard holds %q", b)
	}
	if b, err := os.ReadFile(board + ".err"); err == nil {
		t.Fatalf("clearer failed: %s", b)
	}
}

func TestServeRefusesABadRequest(t *testing.T) {
	cb := fileClipboard(filepath.Join(t.TempDir(), "board"))
	for _, in := range []string{"", "not json", `{"after":1}`, `{"sha256":"abc"}`} {
		if _, err := Serve(context.Background(), strings.NewReader(in), cb); err == nil {
			t.Errorf("Serve(%q) accepted it", in)
		}
	}
	if _, err := Serve(context.Background(), strings.NewReader("{}"), nil); err == nil {
		t.Error("Serve without a clipboard succeeded")
	}
}

// A cancelled wait (a termination signal) clears at once instead of
// leaving the token behind.
func TestServeClearsAtOnceWhenCancelled(t *testing.T) {
	cb := fileClipboard(filepath.Join(t.TempDir(), "board"))
	_ = cb.WriteAll("tok")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := `{"after":3600000000000,"sha256":"` + digest("tok") + `"}`
	cleared, err := Serve(ctx, strings.NewReader(req), cb)
	if err != nil || !cleared {
		t.Fatalf("cleared %v, err %v", cleared, err)
	}
}

func TestChildEnvDropsSecrets(t *testing.T) {
	t.Setenv("KEYFOB_CLIENT_SECRET", "s3cret")
	t.Setenv("KEYFOB_OTHER", "kept")
	env := strings.Join(ChildEnv(), "\n")
	if strings.Contains(env, "s3cret") || !strings.Contains(env, "KEYFOB_OTHER=kept") {
		t.Fatalf("ChildEnv: %s", env)
	}
}
