//go:build unix

package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestCopiedTokenOutlivesAKilledTUI runs the real TUI in tmux with a
// clipboard (a fake xclip keeping it in a file), copies the access token
// with c, then kills the TUI before the 5 s clearing delay is over: with
// SIGKILL, and by killing the tmux session (a hang-up, as when a terminal
// window or SSH connection closes). The token must still leave the
// clipboard on time: the detached clearer the TUI handed it to does it.
func TestCopiedTokenOutlivesAKilledTUI(t *testing.T) {
	t.Parallel() // a long one: it runs beside the others (see TestMain)
	needTmux(t)
	for _, how := range []string{"SIGKILL", "SIGHUP"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			e.seed(e.minted("a0000001", "car", time.Hour))
			os.WriteFile(filepath.Join(e.storeDir(), accounts.ConfigFile),
				[]byte(`{"clipboard_clear": "5s", "auto_refresh": false}`), 0o600)
			path, clip := fakeClipboard(t, e)
			tok := e.account("car").AccessToken
			s := startTUI(t, e, path)
			s.waitFor("the account list", func(scr string) bool { return strings.Contains(scr, "car") })
			s.keys("c")
			waitFor(t, 5*time.Second, func() bool { got, _ := os.ReadFile(clip); return string(got) == tok })
			copied := time.Now()

			s.kill(how)
			if got, _ := os.ReadFile(clip); string(got) != tok {
				t.Fatalf("the clipboard was cleared %v after the copy, before the TUI was killed: this proves nothing", time.Since(copied))
			}
			deadline := time.Now().Add(15 * time.Second)
			for got, _ := os.ReadFile(clip); len(got) != 0; got, _ = os.ReadFile(clip) {
				if time.Now().After(deadline) {
					t.Fatalf("the token was still on the clipboard %v after the copy (clipboard_clear is 5s)", time.Since(copied).Round(time.Second))
				}
				time.Sleep(50 * time.Millisecond)
			}
			if !clearedBy(t, clip, keyfobBinary(t)+" clipboard-clear") {
				t.Fatal("the clipboard was emptied, but not by the detached clearer")
			}
			t.Logf("%s: the clipboard was empty %v after the copy", how, time.Since(copied).Round(100*time.Millisecond))
		})
	}
}

// clearedBy reports whether the fake xclip's log (see fakeClipboard)
// shows a process whose command line starts with caller writing to the
// clipboard.
func clearedBy(t *testing.T, clip, caller string) bool {
	t.Helper()
	log, err := os.ReadFile(clip + ".log")
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range strings.Split(string(log), "argv: ")[1:] {
		if strings.HasPrefix(call, "-in") && strings.Contains(call, "\ncaller: "+caller) {
			return true
		}
	}
	return false
}

// needTmux fails the test when tmux is missing and KEYFOB_REQUIRE_TMUX is
// set (CI), and skips it otherwise.
func needTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("KEYFOB_REQUIRE_TMUX") != "" {
			t.Fatal("tmux is not installed, and KEYFOB_REQUIRE_TMUX says this test must run")
		}
		t.Skip("tmux is not installed")
	}
}

// tmuxTUI is the real keyfob TUI in a detached tmux session on a private
// tmux server, so the user's own tmux is never touched.
type tmuxTUI struct {
	t      *testing.T
	socket string // the server's socket file
	pid    int    // the keyfob process
}

// startTUI opens the TUI on e's store in a clean environment, with pathEnv
// ("PATH=…") as its PATH. The tmux server is killed at the end of the test.
func startTUI(t *testing.T, e *env, pathEnv string) *tmuxTUI {
	t.Helper()
	return startTUISized(t, e, pathEnv, 100, 30)
}

// startTUISized is startTUI on a screen of w×h cells.
func startTUISized(t *testing.T, e *env, pathEnv string, w, h int) *tmuxTUI {
	t.Helper()
	s := &tmuxTUI{t: t, socket: filepath.Join(e.dir, "tmux.sock")} // removed with the test's directory
	home := filepath.Join(e.dir, "home")
	args := []string{"new-session", "-d", "-s", "tui", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h),
		"env", "-i", pathEnv, "HOME=" + home, "TERM=xterm-256color", "LANG=C.UTF-8",
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_STATE_HOME=" + filepath.Join(home, ".state"),
		EnvConfigDir + "=" + e.storeDir(), keyfobBinary(t)}
	if out, err := s.tmux(args...); err != nil {
		t.Fatalf("tmux new-session: %v %s", err, out)
	}
	t.Cleanup(func() { _, _ = s.tmux("kill-server") })
	out, err := s.tmux("display-message", "-p", "-t", "tui", "#{pane_pid}")
	if s.pid, _ = strconv.Atoi(strings.TrimSpace(out)); err != nil || s.pid == 0 {
		t.Fatalf("no pane pid: %v %q", err, out)
	}
	return s
}

func (s *tmuxTUI) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-S", s.socket}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// keys sends keys one by one.
func (s *tmuxTUI) keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		if out, err := s.tmux("send-keys", "-t", "tui", k); err != nil {
			s.t.Fatalf("send-keys %q: %v %s", k, err, out)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// waitFor polls the screen until cond holds.
func (s *tmuxTUI) waitFor(what string, cond func(screen string) bool) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		scr, _ := s.tmux("capture-pane", "-p", "-t", "tui")
		if cond(scr) {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s; the screen:\n%s", what, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill ends the TUI: SIGKILL to its process, or SIGHUP by killing the tmux
// session around it. It returns once the process is gone.
func (s *tmuxTUI) kill(how string) {
	s.t.Helper()
	if how == "SIGKILL" {
		if err := syscall.Kill(s.pid, syscall.SIGKILL); err != nil {
			s.t.Fatal(err)
		}
	} else if out, err := s.tmux("kill-session", "-t", "tui"); err != nil {
		s.t.Fatalf("kill-session: %v %s", err, out)
	}
	waitFor(s.t, 5*time.Second, func() bool { return syscall.Kill(s.pid, 0) != nil })
}
