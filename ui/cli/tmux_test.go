//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// TestCopiedTokenOutlivesAKilledTUI runs the real TUI in tmux with a
// clipboard (a fake xclip keeping it in a file), copies the access token
// with c, then kills the TUI before the 5 s clearing delay is over: with
// SIGKILL, and by killing the tmux session (a hang-up, as when a terminal
// window or SSH connection closes). The token must still leave the
// clipboard on time: the detached clearer the TUI handed it to does it.
func TestCopiedTokenOutlivesAKilledTUI(t *testing.T) {
	t.Parallel() // a long one: it runs beside the others (see TestMain)
	keyfobtest.Need(t, "tmux")
	for _, how := range []string{"SIGKILL", "SIGHUP"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			e.seed(e.minted("a0000001", "car", time.Hour))
			os.WriteFile(filepath.Join(e.storeDir(), accounts.ConfigFile),
				[]byte(`{"clipboard_clear": "5s", "auto_refresh": false}`), 0o600)
			path, clip := fakeClipboard(t, e)
			tok := e.account("car").AccessToken
			s := startTUI(t, e, path)
			s.WaitFor("the account list", func(scr string) bool { return strings.Contains(scr, "car") })
			s.Keys("c")
			waitFor(t, 5*time.Second, func() bool { got, _ := os.ReadFile(clip); return string(got) == tok })
			copied := time.Now()

			s.kill(t, how)
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
			if !clearedBy(t, clip, keyfobtest.Binary(t)+" clipboard-clear") {
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

// tmuxTUI is the real keyfob TUI in tmux (keyfobtest.Tmux), with what
// ui/cli's tests need besides: a SIGKILL of its process.
type tmuxTUI struct{ *keyfobtest.Tmux }

// startTUI opens the TUI on e's store in a clean environment, with pathEnv
// ("PATH=…") as its PATH. The tmux server is killed at the end of the test.
func startTUI(t *testing.T, e *env, pathEnv string) *tmuxTUI {
	t.Helper()
	return startTUISized(t, e, pathEnv, 100, 30)
}

// startTUISized is startTUI on a screen of w×h cells. The server's socket
// is in e's directory, removed with the test's.
func startTUISized(t *testing.T, e *env, pathEnv string, w, h int) *tmuxTUI {
	t.Helper()
	home := keyfobtest.HomeIn(e.dir)
	env := []string{pathEnv, "HOME=" + home.Dir, "LANG=C.UTF-8",
		"XDG_CONFIG_HOME=" + home.ConfigHome, "XDG_STATE_HOME=" + home.StateHome,
		EnvConfigDir + "=" + e.storeDir()}
	return &tmuxTUI{keyfobtest.StartTmux(t, e.dir, w, h, env, keyfobtest.Binary(t))}
}

// kill ends the TUI: SIGKILL to its process, or SIGHUP by killing the tmux
// session around it. It returns once the process is gone.
func (s *tmuxTUI) kill(t *testing.T, how string) {
	t.Helper()
	if how == "SIGKILL" {
		if err := syscall.Kill(s.Pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	} else {
		s.Hangup()
	}
	waitFor(t, 5*time.Second, func() bool { return syscall.Kill(s.Pid, 0) != nil })
}
