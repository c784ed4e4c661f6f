package serve_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/adrg/xdg"

	"github.com/keyfob/keyfob/accounts/etcdtest"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// TestMain lets the test binary double as a process that runs an etcd
// cluster for another test (see etcdElsewhere). Tests get a state
// directory (XDG_STATE_HOME) of the package's own; each store's files go
// in a directory named after the store's path, so that tests, each with
// its own store, can run in parallel, which t.Setenv would not allow.
func TestMain(m *testing.M) {
	if dir := os.Getenv("KEYFOB_TEST_ETCD_CHILD"); dir != "" {
		os.Exit(etcdChild(dir))
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	state, err := os.MkdirTemp("", "keyfob-serve-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(state)
	if err := os.Setenv("XDG_STATE_HOME", state); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	xdg.Reload()
	// The parallel tests mostly wait (for etcd, for the upstream, for
	// clients): eight at once.
	keyfobtest.Parallel(8)
	return keyfobtest.Run(m) // removes the keyfob binary the flood test built
}

// etcdElsewhere runs a three-member etcd cluster in a process of its own
// (this test binary, see TestMain) and returns its client endpoints; the
// process ends with the test. A speed bar measures keyfob serve as it is
// deployed, beside an etcd cluster, not sharing its heap and collector
// with one.
func etcdElsewhere(t testing.TB) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "KEYFOB_TEST_ETCD_CHILD="+t.TempDir())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close() // the child stops its cluster and ends
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	select {
	case l := <-line:
		if l == "" {
			t.Fatal("the etcd process ended before its cluster answered")
		}
		return strings.Split(l, ",")
	case <-time.After(60 * time.Second):
		t.Fatal("the etcd process did not start its cluster within 60 s")
	}
	return nil
}

// etcdChild runs the cluster until its standard input closes, after
// printing its endpoints on one line.
func etcdChild(dir string) int {
	tb := &childTB{dir: dir}
	c := etcdtest.Start(tb, 3)
	fmt.Println(strings.Join(c.Endpoints(), ","))
	_, _ = io.Copy(io.Discard, os.Stdin)
	for i := len(tb.cleanups) - 1; i >= 0; i-- {
		tb.cleanups[i]()
	}
	return 0
}

// childTB is what etcdtest needs of a test, in a process that runs none:
// a failure ends the process, which the parent sees.
type childTB struct {
	testing.TB
	dir      string
	n        int
	cleanups []func()
}

func (c *childTB) Helper()                   {}
func (c *childTB) Cleanup(f func())          { c.cleanups = append(c.cleanups, f) }
func (c *childTB) Logf(string, ...any)       {}
func (c *childTB) Fatal(args ...any)         { fmt.Fprintln(os.Stderr, args...); os.Exit(1) }
func (c *childTB) Fatalf(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...); os.Exit(1) }
func (c *childTB) TempDir() string {
	c.n++
	d := fmt.Sprintf("%s/%d", c.dir, c.n)
	if err := os.MkdirAll(d, 0o700); err != nil {
		c.Fatal(err)
	}
	return d
}
