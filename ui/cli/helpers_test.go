package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/fang/v2"
	"github.com/adrg/xdg"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// Most tests run commands in-process, with buffers for streams, against
// the sandbox server on loopback. The few that need whole processes (many
// at once, killed ones, $BROWSER, the clipboard helper, timings of the real
// binary) build keyfob once per test binary.

func TestMain(m *testing.M) {
	// The test binary doubles as the command keyfob exec runs (checked
	// first: that command inherits the fake browser's variable), as a fake
	// browser ($BROWSER points at it) and as a second process writing the
	// store.
	if mode := os.Getenv("KEYFOB_TEST_CHILD"); mode != "" {
		os.Exit(execChild(mode))
	}
	if mode := os.Getenv("KEYFOB_TEST_BROWSER"); mode != "" {
		os.Exit(fakeBrowser(mode, os.Args[len(os.Args)-1]))
	}
	if dir := os.Getenv("KEYFOB_TEST_WRITER"); dir != "" {
		os.Exit(storeWriter(dir))
	}
	// Most tests spend their time waiting (for tokens to expire, for
	// clipboard clears, for processes), not computing: 8 at once, whatever
	// the number of cores, unless -parallel says otherwise. More would
	// starve the tests that measure time (tokens that live seconds, a
	// clipboard cleared after one) on a busy machine.
	keyfobtest.Parallel(8)
	os.Exit(keyfobtest.Run(m)) // removes the keyfob binary keyfobtest.Binary built
}

// fakeBrowser signs in like a browser would: it follows the authorize URL
// to the loopback callback. Mode "tamper" changes the state on the way.
func fakeBrowser(mode, authURL string) int {
	if _, err := signIn(mode, authURL); err != nil {
		return 1
	}
	return 0
}

// signIn is fakeBrowser's sign-in; it returns the status the callback
// answered.
func signIn(mode, authURL string) (int, error) {
	landed, err := sandbox.Approve(context.Background(), authURL)
	if err != nil {
		return 0, err
	}
	loc, err := url.Parse(landed)
	if err != nil {
		return 0, err
	}
	if mode == "tamper" {
		q := loc.Query()
		q.Set("state", "forged")
		loc.RawQuery = q.Encode()
	}
	resp, err := http.Get(loc.String())
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// browser is fakeBrowser in-process, as the engine's OpenBrowser: like a
// real browser it returns at once and signs in meanwhile.
func browser(mode string) func(string) error {
	return func(authURL string) error {
		go fakeBrowser(mode, authURL)
		return nil
	}
}

// env is one isolated keyfob directory plus a sandbox.
type env struct {
	t   *testing.T
	srv *sandbox.Server
	dir string
	// client, when set, is the Factory's HTTPClient in every run (one that
	// trusts the test's TLS servers).
	client *http.Client
	// serveAt, when set, is told where keyfob serve listens (startServe).
	serveAt func(base string)
}

func newEnv(t *testing.T, opts sandbox.Options) *env {
	t.Helper()
	return &env{t: t, srv: sandbox.NewTest(t, opts), dir: t.TempDir()}
}

func (e *env) storeDir() string { return filepath.Join(e.dir, "keyfob") }

type result struct {
	stdout, stderr string
	code           int
}

// call is one in-process run of keyfob.
type call struct {
	stdin   io.Reader
	env     map[string]string // besides KEYFOB_CONFIG_DIR; also keyfob exec's command's, whole
	browser func(string) error
	inTTY   bool
	outTTY  bool // stdout is a terminal columns wide
	columns int
	asker   Asker     // answers the questions of a terminal
	stdout  io.Writer // besides the result's copy
	stderr  io.Writer
	ctx     context.Context
}

// invoke runs keyfob in-process as main does, with the test's streams and
// environment, and returns what it printed and its exit code.
func (e *env) invoke(c call, args ...string) result {
	if c.stdin == nil {
		c.stdin = strings.NewReader("")
	}
	if c.browser == nil {
		c.browser = browser("follow")
	}
	if c.ctx == nil {
		c.ctx = context.Background()
	}
	var out, errb keyfobtest.Buffer
	var stdout, stderr io.Writer = &out, &errb
	if c.stdout != nil {
		stdout = io.MultiWriter(&out, c.stdout)
	}
	if c.stderr != nil {
		stderr = io.MultiWriter(&errb, c.stderr)
	}
	f := &Factory{
		IO:      &IOStreams{In: c.stdin, Out: stdout, Err: stderr, InTTY: c.inTTY, OutTTY: c.outTTY, Columns: c.columns},
		Version: "test",
		Getenv: func(k string) string {
			if k == EnvConfigDir {
				return e.storeDir()
			}
			return c.env[k]
		},
		LookupEnv: func(k string) (string, bool) {
			v, ok := c.env[k]
			if k == EnvConfigDir && !ok {
				return e.storeDir(), true
			}
			return v, ok
		},
		Environ: func() []string {
			vars := []string{EnvConfigDir + "=" + e.storeDir()}
			for k, v := range c.env {
				vars = append(vars, k+"="+v)
			}
			return vars
		},
		Browser:    c.browser,
		HTTPClient: e.client,
		Asker:      c.asker,
		// The tests share this process: a serve run in it would bound the
		// heap of all of them to its own memory limit.
		KeepRuntime: true,
	}
	root := NewCmdRoot(f)
	root.SetArgs(append([]string{}, args...))
	err := fang.Execute(c.ctx, root, fang.WithVersion(f.Version), fang.WithErrorHandler(PrintError))
	return result{out.String(), errb.String(), ExitCode(err)}
}

// run runs keyfob in-process with stdin.
func (e *env) run(stdin string, args ...string) result {
	return e.invoke(call{stdin: strings.NewReader(stdin)}, args...)
}

// runEnv runs keyfob in-process with stdin and environment variables.
func (e *env) runEnv(stdin string, vars map[string]string, args ...string) result {
	return e.invoke(call{stdin: strings.NewReader(stdin), env: vars}, args...)
}

func (e *env) mustRun(stdin string, args ...string) result {
	e.t.Helper()
	r := e.run(stdin, args...)
	if r.code != 0 {
		e.t.Fatalf("keyfob %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// environ is the environment of a keyfob process: its own home, and the
// test binary as its browser.
func (e *env) environ(extra ...string) []string {
	home := filepath.Join(e.dir, "home")
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".state"),
		EnvConfigDir + "=" + e.storeDir(),
		"BROWSER=" + os.Args[0],
		"KEYFOB_TEST_BROWSER=follow",
	}, extra...)
}

// runProcess runs the keyfob binary as a user or a script would.
func (e *env) runProcess(stdin string, extraEnv []string, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(keyfobtest.Binary(e.t), args...)
	cmd.Env = e.environ(extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// isolateHome points HOME and the XDG directories of this process at the
// test's own, so that a file keyfob writes outside its directory is seen.
func (e *env) isolateHome() string {
	home := filepath.Join(e.dir, "home")
	e.t.Cleanup(xdg.Reload) // after t.Setenv restores the environment
	e.t.Setenv("HOME", home)
	e.t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	e.t.Setenv("XDG_STATE_HOME", filepath.Join(home, ".state"))
	xdg.Reload()
	return home
}

// manager is a Manager of the env's store of its own, as another keyfob
// process has.
func (e *env) manager() *accounts.Manager {
	e.t.Helper()
	m, err := accounts.Open("", accounts.Options{Dir: e.storeDir(), Auth: &oauth.Engine{}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = m.Close() })
	return m
}

// store reads every account and consumer as the store holds them now.
func (e *env) store() *accounts.Snapshot {
	e.t.Helper()
	snap, err := e.manager().Snapshot(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return snap
}

func (e *env) account(name string) accounts.Account {
	e.t.Helper()
	a, err := accounts.Resolve(e.store().Accounts, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return *a
}

// storeFiles is every file in keyfob's directory (the store and the
// settings) with its contents, by path relative to it; nil when there is
// none. Lock files are left out: taking a lock changes nothing.
func (e *env) storeFiles() map[string]string {
	e.t.Helper()
	var files map[string]string
	root := e.storeDir()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == root {
			return filepath.SkipAll
		}
		if err != nil || d.IsDir() || strings.HasSuffix(d.Name(), ".lock") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if files == nil {
			files = map[string]string{}
		}
		files[rel] = string(data)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return files
}

// storeBytes is every file of keyfob's directory (see storeFiles) in one
// comparable piece, nil when there is none.
func (e *env) storeBytes() []byte {
	e.t.Helper()
	files := e.storeFiles()
	if files == nil {
		return nil
	}
	paths := slices.Sorted(maps.Keys(files))
	var b bytes.Buffer
	for _, p := range paths {
		fmt.Fprintf(&b, "== %s\n%s\n", p, files[p])
	}
	return b.Bytes()
}

// sameFiles fails the test when the store's files differ from before.
func (e *env) sameFiles(what string, before map[string]string) {
	e.t.Helper()
	after := e.storeFiles()
	for p, b := range before {
		if a, ok := after[p]; !ok {
			e.t.Errorf("%s: %s was removed", what, p)
		} else if a != b {
			e.t.Errorf("%s: %s changed:\n%s\nbecame\n%s", what, p, b, a)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			e.t.Errorf("%s: %s was written", what, p)
		}
	}
}

// seed writes accounts minted by the sandbox straight into the store.
func (e *env) seed(accts ...accounts.Account) {
	e.t.Helper()
	if _, err := e.manager().Put(context.Background(), accts...); err != nil {
		e.t.Fatal(err)
	}
}

// minted is a fleet account on the sandbox with tokens from Mint. Its
// access token counts as obtained 8 hours before it expires (Tesla's
// lifetime), so that a token near its end is not taken for a short-lived
// one, whose refresh margin keyfob caps at half its lifetime.
func (e *env) minted(id, name string, ttl time.Duration) accounts.Account {
	ts := e.srv.Mint(sandbox.MintRequest{ClientID: sandbox.FleetClientID, AccessTTL: ttl,
		Scopes: []string{"openid", "offline_access", "vehicle_device_data"}})
	now := time.Now()
	obtained := ts.Expiry.Add(-8 * time.Hour)
	if obtained.After(now) {
		obtained = now
	}
	return accounts.Account{
		ID: id, Name: name, Kind: accounts.KindFleet, Region: "na", ClientID: sandbox.FleetClientID,
		Endpoints: accounts.Endpoints{
			AuthURL: e.srv.Issuer() + "/authorize", TokenURL: e.srv.Issuer() + "/token",
			RevokeURL: e.srv.Issuer() + "/revoke",
		},
		AccessToken: ts.AccessToken, RefreshToken: ts.RefreshToken, Expiry: ts.Expiry,
		GrantedScopes: ts.Scopes, AccessObtainedAt: obtained, RefreshObtainedAt: now,
		State: accounts.StateActive,
	}
}

// redirectOf signs in at the sandbox and returns where it redirects to,
// as a user would copy it from the address bar.
func redirectOf(t *testing.T, authURL string) string {
	loc, err := sandbox.Approve(context.Background(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func waitFor(t *testing.T, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
