package ui

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/clipboard"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// driver runs the root model as a program does (keyfobtest.Driver), and
// records what a program does itself: the terminal clipboard (OSC 52)
// and quitting. Only the ticks the test sends itself reach the model,
// unless realTicks is set; the spinner stays on its first frame, so that
// screens stay comparable.
type driver struct {
	*keyfobtest.Driver
	m *Model

	mu    sync.Mutex
	osc52 []string // what went to the terminal clipboard, in order
	quit  bool
	// realTicks lets the once-a-second ticks of tea.Every through.
	realTicks atomic.Bool
	// changes counts the changes by others the model was told of.
	changes atomic.Int64
}

func newDriver(t testing.TB, m *Model) *driver {
	d := &driver{m: m}
	d.Driver = keyfobtest.NewDriver(t, func(msg tea.Msg) tea.Cmd {
		_, cmd := m.Update(msg)
		return cmd
	})
	d.Screen = func() string { return plain(m) }
	d.Drop = func(msg tea.Msg) bool {
		switch msg.(type) {
		case tickMsg:
			return !d.realTicks.Load()
		case spinner.TickMsg:
			return true
		}
		return false
	}
	d.Take = d.take
	// The model was loaded without a program (newModelFor), which dropped
	// the command its load returned: the wait for changes by others.
	if m.store.w != nil {
		d.Exec(waitCmd(m.c.Ctx, m.store.w))
	}
	return d
}

// take records what the program itself would do with msg.
func (d *driver) take(msg tea.Msg) bool {
	switch msg.(type) {
	case tea.QuitMsg:
		d.mu.Lock()
		d.quit = true
		d.mu.Unlock()
		return true
	case storeChangedMsg:
		d.changes.Add(1)
		return false
	}
	switch reflect.TypeOf(msg).Name() {
	case "setClipboardMsg":
		d.mu.Lock()
		d.osc52 = append(d.osc52, fmt.Sprint(msg))
		d.mu.Unlock()
		return true
	case "readClipboardMsg", "backgroundColorMsg":
		return true
	}
	return false
}

func (d *driver) clipboard() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.osc52...)
}

func (d *driver) quitted() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.quit
}

// flowEnv is a sandbox, a store and a model wired together.
type flowEnv struct {
	srv    *sandbox.Server
	dir    string // keyfob's directory, where the store is
	mgr    *accounts.Manager
	engine *oauth.Engine
	logins *oauth.Logins
	m      *Model
	d      *driver
	clip   *fakeClipboard

	// ahead is how far the clock of the Managers and the TUI is ahead of
	// the real one (see advance).
	ahead atomic.Int64

	mu      sync.Mutex
	browser func(string) error // what opening the browser does
	opened  string             // the last address the browser was sent to
}

// now is the clock of the env's Managers and TUI.
func (e *flowEnv) now() time.Time { return time.Now().Add(time.Duration(e.ahead.Load())) }

// advance moves the clock of the Managers and the TUI on by d (the
// sandbox keeps real time): the back-off the store keeps after a failed
// refresh ends without the test waiting it out.
func (e *flowEnv) advance(d time.Duration) { e.ahead.Add(int64(d)) }

// openBrowser is the engine's browser: it records the address, then does
// what e.browser does.
func (e *flowEnv) openBrowser(u string) error {
	e.mu.Lock()
	e.opened = u
	browse := e.browser
	e.mu.Unlock()
	return browse(u)
}

// setBrowser replaces what opening the browser does.
func (e *flowEnv) setBrowser(b func(string) error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.browser = b
}

// authURL is the last address the browser was sent to.
func (e *flowEnv) authURL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.opened
}

// newFlowEnv starts a sandbox and a model over a store holding accts.
func newFlowEnv(t *testing.T, opts sandbox.Options, seed func(*sandbox.Server) []accounts.Account) *flowEnv {
	t.Helper()
	srv := keyfobtest.Sandbox(t, opts)
	var accts []accounts.Account
	if seed != nil {
		accts = seed(srv)
	}
	e := &flowEnv{srv: srv, dir: t.TempDir(), browser: keyfobtest.FollowBrowser, clip: &fakeClipboard{}}
	e.engine = &oauth.Engine{OpenBrowser: e.openBrowser}
	e.mgr = keyfobtest.Manager(t, accts, accounts.Options{Dir: e.dir, Auth: e.engine, Now: e.now})
	// The wizard's fleet form gets the app's redirect URI from the logins'
	// memory, as after an earlier sign-in of the app. (The sandbox takes
	// any loopback redirect URI of an app it has none registered for, as
	// the custom kind's ephemeral ports need.)
	redirect := keyfobtest.FreeRedirect(t)
	logins := &oauth.Logins{Engine: e.engine, Manager: e.mgr, Presets: keyfobtest.Presets(srv, ""),
		RedirectFor: func(clientID string) string {
			if clientID == sandbox.FleetClientID {
				return redirect
			}
			return ""
		}}
	e.logins = logins
	e.m = newModelFor(t, Options{Manager: e.mgr, Engine: e.engine, Logins: logins, Now: e.now}, 100, 30)
	e.m.clip = clipboard.New(e.clip, nil)
	e.d = newDriver(t, e.m)
	return e
}

// other is a Manager of the env's store of its own, as another keyfob
// process has.
func (e *flowEnv) other(t *testing.T) *accounts.Manager {
	t.Helper()
	m, err := accounts.Open("", accounts.Options{Dir: e.dir, Auth: e.engine, Now: e.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// stored reads the store as it is on disk now (through a Manager of its
// own, which holds nothing of the TUI's in memory).
func (e *flowEnv) stored(t *testing.T) []accounts.Account {
	t.Helper()
	accts, err := e.other(t).List(ctx())
	if err != nil {
		t.Fatal(err)
	}
	return accts
}

// config reads the settings file as it is on disk now.
func (e *flowEnv) config(t *testing.T) (accounts.Config, error) {
	t.Helper()
	return e.other(t).Config()
}

// storedNamed finds an account by name on disk.
func (e *flowEnv) storedNamed(t *testing.T, name string) (accounts.Account, bool) {
	t.Helper()
	for _, a := range e.stored(t) {
		if a.Name == name {
			return a, true
		}
	}
	return accounts.Account{}, false
}

var errNoBrowser = errors.New("no browser could be opened: none of xdg-open or wslview is installed, and $BROWSER is not set")

// ctx is a test context.
func ctx() context.Context { return context.Background() }
