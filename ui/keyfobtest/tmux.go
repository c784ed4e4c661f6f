package keyfobtest

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tmux is a program (the real keyfob, mostly) in a detached session of a
// private tmux server, so that the user's own tmux is never touched. Start
// it with StartTmux; the server is killed when the test ends.
type Tmux struct {
	t      testing.TB
	socket string // the server's socket file
	name   string // the session
	// Pid is the process of the program.
	Pid int
}

// StartTmux runs argv in a w×h tmux session with only the environment env
// (see Home.Env; TERM is xterm-256color). The server's socket lives in dir,
// which must outlive the session (the test's own temporary directory).
func StartTmux(t testing.TB, dir string, w, h int, env []string, argv ...string) *Tmux {
	t.Helper()
	Need(t, "tmux")
	s := &Tmux{t: t, socket: filepath.Join(dir, "tmux.sock"), name: "keyfob"}
	args := []string{"new-session", "-d", "-s", s.name, "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), "env", "-i"}
	args = append(append(append(args, env...), "TERM=xterm-256color"), argv...)
	if out, err := s.tmux(args...); err != nil {
		t.Fatalf("tmux new-session: %v %s", err, out)
	}
	t.Cleanup(func() { _, _ = s.tmux("kill-server") })
	out, err := s.tmux("display-message", "-p", "-t", s.name, "#{pane_pid}")
	if s.Pid, _ = strconv.Atoi(strings.TrimSpace(out)); err != nil || s.Pid == 0 {
		t.Fatalf("no pane pid: %v %q", err, out)
	}
	return s
}

func (s *Tmux) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-S", s.socket}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Keys sends keys one by one (tmux's names: "Enter", "Escape", "C-c", or
// a character), pausing after each so that an escape is not read as the
// start of an alt-key sequence.
func (s *Tmux) Keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		if out, err := s.tmux("send-keys", "-t", s.name, k); err != nil {
			s.t.Fatalf("send-keys %q: %v %s", k, err, out)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// Type sends literal text.
func (s *Tmux) Type(text string) {
	s.t.Helper()
	if out, err := s.tmux("send-keys", "-t", s.name, "-l", text); err != nil {
		s.t.Fatalf("send-keys -l: %v %s", err, out)
	}
}

// Screen is the text on the screen now.
func (s *Tmux) Screen() string {
	out, _ := s.tmux("capture-pane", "-p", "-t", s.name)
	return out
}

// WaitFor polls the screen until cond holds, and returns it (a hung
// program fails the test after a generous deadline; a slow one does not).
func (s *Tmux) WaitFor(what string, cond func(screen string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		scr := s.Screen()
		if cond(scr) {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s; the screen:\n%s", what, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Alive reports whether the session (and so the program) is still there.
func (s *Tmux) Alive() bool {
	_, err := s.tmux("has-session", "-t", s.name)
	return err == nil
}

// WaitGone waits until the session ended, failing the test after d.
func (s *Tmux) WaitGone(d time.Duration) {
	s.t.Helper()
	if !Within(d, func() bool { return !s.Alive() }) {
		s.t.Fatalf("the program did not end within %v; the screen:\n%s", d, s.Screen())
	}
}

// Hangup kills the session around the program: a hang-up, as when a
// terminal window or an SSH connection closes.
func (s *Tmux) Hangup() {
	s.t.Helper()
	if out, err := s.tmux("kill-session", "-t", s.name); err != nil {
		s.t.Fatalf("kill-session: %v %s", err, out)
	}
}

// String names the session in messages.
func (s *Tmux) String() string { return fmt.Sprintf("tmux session %s (pid %d)", s.name, s.Pid) }
