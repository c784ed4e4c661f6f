package cli

import (
	"context"
	"errors"
	"net"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// An --addr whose port another process holds is refused with which
// process it is (on Linux, from /proc) and the flag that picks another;
// never Go's raw "bind: address already in use".
func TestTakenAddressNamesItsHolder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	holder := "pid " + strconv.Itoa(os.Getpid()) + " ("
	if runtime.GOOS != "linux" {
		holder = "another process" // only Linux says who
	}
	for _, args := range [][]string{{"serve", "--addr", addr}, {"sandbox", "--addr", addr}} {
		r := e.run("", args...)
		if r.code != ExitError || !strings.Contains(r.stderr, addr+" is already in use by "+holder) ||
			!strings.Contains(r.stderr, "--addr 127.0.0.1:PORT") || strings.Contains(r.stderr, "bind:") {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

// serve on every address says the address asked for, not Go's [::], and
// counts its consumers and accounts in words.
func TestServeSaysWhereItListens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	e.mustRun("", "serve", "add", "teslamate", "--account", "car")
	ctx, cancel := context.WithCancel(context.Background())
	var errb keyfobtest.Buffer
	done := make(chan result, 1)
	go func() {
		done <- e.invoke(call{ctx: ctx, stderr: &errb}, "serve", "--addr", "0.0.0.0:0", "--insecure")
	}()
	waitFor(t, 20*time.Second, func() bool { return strings.Contains(errb.String(), "listening on") })
	cancel()
	r := <-done
	if !regexp.MustCompile(`listening on http://0\.0\.0\.0:\d+ for 1 consumer of 1 account `).MatchString(r.stderr) || strings.Contains(r.stderr, "[::]") {
		t.Fatalf("stderr %q", r.stderr)
	}
}

// A browser that cannot be opened is said once, with what to do.
func TestBrowserFailureSaidOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	noBrowser := func(string) error {
		return errors.New("no browser could be opened: none of xdg-open or wslview is installed, and $BROWSER is not set")
	}
	// Everything about the browser is said before keyfob waits for it:
	// the login ends as soon as it says it waits.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var said keyfobtest.Buffer
	waits := writerFunc(func(p []byte) (int, error) {
		said.Write(p)
		if strings.Contains(said.String(), "Waiting for the browser") {
			cancel()
		}
		return len(p), nil
	})
	r := e.invoke(call{browser: noBrowser, ctx: ctx, stderr: waits}, "login", "--kind", "fleet", "--issuer", e.srv.URL(),
		"--client-id", sandbox.FleetClientID, "--redirect-uri", e.fleetRedirect())
	if !strings.Contains(r.stderr, "No browser could be opened: none of xdg-open or wslview is installed, and $BROWSER is not set; "+
		"set $BROWSER to your browser's command, or open the URL below yourself.") || strings.Count(r.stderr, "browser could") != 1 {
		t.Fatalf("stderr %q", r.stderr)
	}
}

// writerFunc is a function as an io.Writer.
type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Help pages read as written: flag help keeps OAuth's capitals and never
// sends the reader to the page they are on.
func TestHelpTexts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	for _, cmd := range []string{"login", "import", "token"} {
		r := e.mustRun("", cmd, "--help")
		page := r.stdout + r.stderr
		if strings.Contains(page, "Oauth") || strings.Contains(page, "see --help") {
			t.Errorf("%s --help:\n%s", cmd, page)
		}
	}
}
