//go:build unix

package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// unixChild has the signal modes of execChild:
//
//	signals  note "ready TOKEN_FILE" in $KEYFOB_TEST_OUT, then every signal it
//	         gets; exit 42 half a second after the first INT or TERM
//	sleep    note ready and sleep, with the default dispositions
//	die      kill itself with SIGKILL
func unixChild(mode string) int {
	out := os.Getenv("KEYFOB_TEST_OUT")
	note := func(s string) {
		f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintln(f, s)
			f.Close()
		}
	}
	switch mode {
	case "signals":
		return childSignals(note)
	case "sleep":
		note("ready " + os.Getenv(EnvTokenFile))
		time.Sleep(30 * time.Second)
		return 0
	case "die":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	}
	return 2
}

func childSignals(note func(string)) int {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1)
	note("ready " + os.Getenv(EnvTokenFile))
	var end <-chan time.Time
	timeout := time.After(30 * time.Second)
	for {
		select {
		case s := <-sigs:
			note(s.(syscall.Signal).String())
			if end == nil && (s == syscall.SIGINT || s == syscall.SIGTERM) {
				end = time.After(500 * time.Millisecond)
			}
		case <-end:
			return 42
		case <-timeout:
			return 99
		}
	}
}

// execProcess is a keyfob exec process whose CMD is the test binary.
type execProcess struct {
	t      *testing.T
	cmd    *exec.Cmd
	out    string // the child's notes
	run    string // $XDG_RUNTIME_DIR
	stderr bytes.Buffer
}

func (e *env) startExec(mode string, attr *syscall.SysProcAttr) *execProcess {
	e.t.Helper()
	return e.startExecAs(mode, mode, attr)
}

// startExecAs is startExec with the child's notes in a file of its own,
// for several execs at once.
func (e *env) startExecAs(name, mode string, attr *syscall.SysProcAttr) *execProcess {
	e.t.Helper()
	p := &execProcess{t: e.t, out: filepath.Join(e.dir, "child-"+name), run: filepath.Join(e.dir, "run")}
	if err := os.MkdirAll(p.run, 0o700); err != nil {
		e.t.Fatal(err)
	}
	p.cmd = exec.Command(keyfobtest.Binary(e.t), "exec", "car", "--", os.Args[0])
	p.cmd.Env = e.environ("KEYFOB_TEST_CHILD="+mode, "KEYFOB_TEST_OUT="+p.out, "XDG_RUNTIME_DIR="+p.run)
	p.cmd.Stderr, p.cmd.SysProcAttr = &p.stderr, attr
	if err := p.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	return p
}

// ready waits for CMD to start and returns the token file it was given.
func (p *execProcess) ready() string {
	p.t.Helper()
	var file string
	waitFor(p.t, 20*time.Second, func() bool {
		b, _ := os.ReadFile(p.out)
		first, _, _ := strings.Cut(string(b), "\n")
		file, _ = strings.CutPrefix(first, "ready ")
		return file != ""
	})
	if _, err := os.Stat(file); err != nil {
		p.t.Fatalf("the token file is not there while CMD runs: %v", err)
	}
	return file
}

// notes are the signals CMD noted, in order.
func (p *execProcess) notes() []string {
	b, _ := os.ReadFile(p.out)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[1:]
}

func (p *execProcess) wait() int {
	p.t.Helper()
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		p.t.Fatal(err)
	}
	assertEmptyDir(p.t, p.run)
	return p.cmd.ProcessState.ExitCode()
}

// TestExecPassesSignalsOnAndCleansUp: what is sent to keyfob reaches CMD
// once; keyfob exits with CMD's code (128+N when signal N killed it) and
// removes the token's directory in every case.
func TestExecPassesSignalsOnAndCleansUp(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	noTTY := &syscall.SysProcAttr{Setsid: true}
	for _, tc := range []struct {
		mode  string
		send  []syscall.Signal
		code  int
		notes string
	}{
		{"signals", []syscall.Signal{syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGTERM}, 42, "hangup,terminated,user defined signal 1"},
		// No terminal sent this ctrl+c: keyfob passes it on.
		{"signals", []syscall.Signal{syscall.SIGINT}, 42, "interrupt"},
		{"sleep", []syscall.Signal{syscall.SIGTERM}, 128 + 15, ""},
		{"die", nil, 128 + 9, ""},
	} {
		p := e.startExec(tc.mode, noTTY)
		if tc.mode != "die" {
			p.ready()
		}
		for _, s := range tc.send {
			if err := p.cmd.Process.Signal(s); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		code := p.wait()
		// Each once; the order of signals pending together is the system's.
		notes := p.notes()
		slices.Sort(notes)
		if notes := strings.Join(notes, ","); code != tc.code || (tc.mode == "signals" && notes != tc.notes) {
			t.Errorf("%s %v: exit %d (want %d), CMD got %q (want %q); stderr %s", tc.mode, tc.send, code, tc.code, notes, tc.notes, p.stderr.String())
		}
		os.Remove(p.out)
	}
}

// TestExecCtrlCReachesCMDOnce presses ctrl+c in a terminal (tmux, an
// interactive bash) where keyfob exec runs as the foreground job: the
// terminal sends SIGINT to the whole job, so keyfob must not pass it on as
// well — CMD gets exactly one, and keyfob exits with CMD's code.
func TestExecCtrlCReachesCMDOnce(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("KEYFOB_REQUIRE_TMUX") != "" {
			t.Fatal("tmux is not installed, and KEYFOB_REQUIRE_TMUX says this test must run")
		}
		t.Skip("tmux is not installed")
	}
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	p := &execProcess{t: t, out: filepath.Join(e.dir, "child-tmux"), run: filepath.Join(e.dir, "run")}
	if err := os.MkdirAll(p.run, 0o700); err != nil {
		t.Fatal(err)
	}
	code, script := filepath.Join(e.dir, "code"), filepath.Join(e.dir, "run.sh")
	argv := append([]string{"env", "-i"}, e.environ("KEYFOB_TEST_CHILD=signals", "KEYFOB_TEST_OUT="+p.out, "XDG_RUNTIME_DIR="+p.run)...)
	argv = append(argv, keyfobtest.Binary(t), "exec", "car", "--", os.Args[0])
	body := strings.Join(argv, " ") + "\necho $? > " + code + "\n"
	if err := os.WriteFile(script, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	socket := fmt.Sprintf("keyfob-exec-%d", os.Getpid())
	tmux := func(args ...string) {
		if out, err := exec.Command("tmux", append([]string{"-L", socket}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("tmux %s: %v %s", args[0], err, out)
		}
	}
	tmux("new-session", "-d", "-s", "exec", "-x", "80", "-y", "24", "bash", "--norc", "--noprofile", "-i")
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", socket, "kill-server").Run() })
	tmux("send-keys", "-t", "exec", "-l", "source "+script)
	tmux("send-keys", "-t", "exec", "Enter")
	p.ready()
	tmux("send-keys", "-t", "exec", "C-c")
	var got []byte
	waitFor(t, 10*time.Second, func() bool {
		got, _ = os.ReadFile(code)
		return len(got) > 0
	})
	if notes := strings.Join(p.notes(), ","); notes != "interrupt" || strings.TrimSpace(string(got)) != "42" {
		t.Fatalf("CMD got %q (want one interrupt); keyfob's exit: %s", notes, got)
	}
	assertEmptyDir(t, p.run)
}

// TestExecSweepsTheDirectoriesOfKilledExecs: an exec killed with SIGKILL
// leaves its token directory; the next exec removes it, and never the
// directory of an exec that is alive. Hidden directories an exec was
// killed while making are removed after a minute; what is not the user's,
// or has no lock file (an older keyfob's), is left alone.
func TestExecSweepsTheDirectoriesOfKilledExecs(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	noTTY := &syscall.SysProcAttr{Setsid: true}
	killed, alive := e.startExecAs("killed", "sleep", noTTY), e.startExecAs("alive", "sleep", noTTY)
	killedDir, aliveDir := filepath.Dir(killed.ready()), filepath.Dir(alive.ready())
	// Its CMD lives on as an orphan in its session: ended at the end.
	t.Cleanup(func() { _ = syscall.Kill(-killed.cmd.Process.Pid, syscall.SIGKILL) })
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The process alone: its orphan still holds the pipe of its stderr.
	_, _ = killed.cmd.Process.Wait()
	if _, err := os.Stat(killedDir); err != nil {
		t.Fatalf("the killed exec's directory is not there to sweep: %v", err)
	}
	run := killed.run
	mkdir := func(name string, age time.Duration) string {
		dir := filepath.Join(run, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-age)
		if err := os.Chtimes(dir, old, old); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	staleNew, freshNew := mkdir(execNewPrefix+"stale", 2*execNewDeadline), mkdir(execNewPrefix+"fresh", 0)
	noLock := mkdir(execDirPrefix+"older-keyfob", time.Hour)
	kept := []string{aliveDir, freshNew, noLock}
	if os.Getuid() == 0 {
		// Another user's, left unlocked: as root keyfob could remove it,
		// and must not.
		others := mkdir(execDirPrefix+"another-user", time.Hour)
		if err := os.WriteFile(filepath.Join(others, execLockName), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(others, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, others)
	}
	next := e.startExecAs("next", "sleep", noTTY)
	nextDir := filepath.Dir(next.ready())
	for _, gone := range []string{killedDir, staleNew} {
		if _, err := os.Lstat(gone); !os.IsNotExist(err) {
			t.Errorf("%s is still there after the next exec (%v)", filepath.Base(gone), err)
		}
	}
	for _, dir := range append(kept, nextDir) {
		if _, err := os.Lstat(dir); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(dir), err)
		}
	}
	// The live ones clean up after themselves as ever.
	for _, p := range []*execProcess{alive, next} {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		_ = p.cmd.Wait()
	}
	for _, dir := range kept[1:] {
		_ = os.RemoveAll(dir)
	}
	assertEmptyDir(t, run)
}
