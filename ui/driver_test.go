package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
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
)

// driver runs a model the way a program does — every command in its own
// goroutine, every message back into Update — but under the test's
// control: the test waits for conditions, not for time.
type driver struct {
	t    testing.TB
	m    *Model
	msgs chan tea.Msg
	done chan struct{}

	mu    sync.Mutex
	osc52 []string // what went to the terminal clipboard, in order
	quit  bool
	// realTicks lets the once-a-second ticks of tea.Every through; by
	// default only ticks the test sends itself reach the model.
	realTicks bool
	// changes counts the changes by others the model was told of.
	changes atomic.Int64
}

func newDriver(t testing.TB, m *Model) *driver {
	d := &driver{t: t, m: m, msgs: make(chan tea.Msg, 256), done: make(chan struct{})}
	t.Cleanup(func() { close(d.done) })
	// The model was loaded without a program (newModelFor), which dropped
	// the command its load returned: the wait for changes by others.
	if m.store.w != nil {
		d.exec(waitCmd(m.c.Ctx, m.store.w))
	}
	return d
}

// exec runs a command in the background and queues its message.
func (d *driver) exec(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if _, ok := msg.(tickMsg); ok && !d.realTicks {
			return
		}
		if _, ok := msg.(spinner.TickMsg); ok {
			// The spinner stays on its first frame: screens stay
			// comparable, and nothing here waits on it.
			return
		}
		select {
		case d.msgs <- msg:
		case <-d.done:
		}
	}()
}

// handle processes one message as the program would.
func (d *driver) handle(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
		return
	case tea.BatchMsg:
		for _, c := range msg {
			d.exec(c)
		}
		return
	case tea.QuitMsg:
		d.mu.Lock()
		d.quit = true
		d.mu.Unlock()
		return
	}
	if _, ok := msg.(storeChangedMsg); ok {
		d.changes.Add(1)
	}
	v := reflect.ValueOf(msg)
	switch v.Type().Name() {
	case "sequenceMsg":
		cmds := make([]tea.Cmd, v.Len())
		for i := range cmds {
			cmds[i], _ = v.Index(i).Interface().(tea.Cmd)
		}
		go func() {
			for _, c := range cmds {
				if c == nil {
					continue
				}
				m := c()
				if b, ok := m.(tea.BatchMsg); ok {
					for _, bc := range b {
						if bc != nil {
							d.deliver(bc())
						}
					}
					continue
				}
				d.deliver(m)
			}
		}()
		return
	case "setClipboardMsg":
		d.mu.Lock()
		d.osc52 = append(d.osc52, fmt.Sprint(msg))
		d.mu.Unlock()
		return
	case "readClipboardMsg", "backgroundColorMsg":
		return
	}
	_, cmd := d.m.Update(msg)
	d.exec(cmd)
}

func (d *driver) deliver(msg tea.Msg) {
	select {
	case d.msgs <- msg:
	case <-d.done:
	}
}

// send delivers a message directly, then handles whatever is queued.
func (d *driver) send(msg tea.Msg) {
	d.handle(msg)
	d.drain()
}

// press sends keys like the package-level press, running their commands.
func (d *driver) press(keys ...string) {
	for _, k := range keys {
		if text, ok := strings.CutPrefix(k, "type:"); ok {
			for _, r := range text {
				d.handle(tea.KeyPressMsg{Code: r, Text: string(r)})
			}
			continue
		}
		if text, ok := strings.CutPrefix(k, "paste:"); ok {
			d.handle(tea.PasteMsg{Content: text})
			continue
		}
		d.handle(keyMsg(k))
		d.drain()
	}
}

// drain handles the messages already queued, without waiting.
func (d *driver) drain() {
	for {
		select {
		case msg := <-d.msgs:
			d.handle(msg)
		default:
			return
		}
	}
}

// until handles messages until cond holds, failing after a generous
// deadline (a hung flow, not a slow one).
func (d *driver) until(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		d.drain()
		if cond() {
			return
		}
		select {
		case msg := <-d.msgs:
			d.handle(msg)
		case <-deadline.C:
			d.t.Fatalf("timed out waiting for %s; the screen:\n%s", what, plain(d.m))
		}
	}
}

// settle waits until no command is pending: used where a test asserts that
// something did NOT happen.
func (d *driver) settle() {
	d.t.Helper()
	for range 3 {
		time.Sleep(20 * time.Millisecond)
		d.drain()
	}
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

// sandboxPresets points the wizard at a sandbox, like keyfob demo does.
func sandboxPresets(s *sandbox.Server) func(accounts.Kind, string) (accounts.Account, error) {
	return func(kind accounts.Kind, region string) (accounts.Account, error) {
		a, err := oauth.Preset(kind, region)
		if err != nil {
			return a, err
		}
		iss := s.Issuer()
		switch kind {
		case accounts.KindFleet:
			a.ClientID = sandbox.FleetClientID
			a.Endpoints.AuthURL, a.Endpoints.TokenURL = iss+"/authorize", iss+"/token"
			a.Endpoints.UserInfoURL = iss + "/userinfo"
			a.Endpoints.APIBaseURL = s.FleetAPIBase(region)
		case accounts.KindOwner:
			a.Endpoints.AuthURL, a.Endpoints.TokenURL = iss+"/authorize", iss+"/token"
			a.Endpoints.UserInfoURL = iss + "/userinfo"
			a.Endpoints.APIBaseURL = s.URL()
		case accounts.KindPartner:
			a.ClientID, a.ClientSecret = sandbox.PartnerClientID, sandbox.PartnerSecret
			a.Endpoints.TokenURL = iss + "/token"
			a.Endpoints.APIBaseURL = s.FleetAPIBase(region)
		case accounts.KindLegacy:
			a.Endpoints.BaseURL = s.URL()
			a.Email = s.User().Email
		}
		return a, nil
	}
}

// followBrowser is a browser that signs in at the sandbox (typing in the
// password where it asks) and follows the redirect: it completes loopback
// logins.
func followBrowser(u string) error {
	loc, err := sandbox.Approve(context.Background(), u)
	if err != nil {
		return err
	}
	resp, err := http.Get(loc)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 400 {
		return fmt.Errorf("the sign-in page answered %s", resp.Status)
	}
	return nil
}

// landedAt visits a sign-in address without following the last redirect
// and returns where the sandbox sends the browser (tesla://…).
func landedAt(t testing.TB, authURL string) string {
	t.Helper()
	loc, err := sandbox.Approve(context.Background(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// flowEnv is a sandbox, a store and a model wired together.
type flowEnv struct {
	srv    *sandbox.Server
	dir    string // keyfob's directory, where the store is
	mgr    *accounts.Manager
	engine *oauth.Engine
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
	srv := sandbox.NewTest(t, opts)
	var accts []accounts.Account
	if seed != nil {
		accts = seed(srv)
	}
	e := &flowEnv{srv: srv, dir: t.TempDir(), browser: followBrowser, clip: &fakeClipboard{}}
	e.engine = &oauth.Engine{OpenBrowser: e.openBrowser}
	e.mgr = seedManager(t, accts, accounts.Options{Dir: e.dir, Auth: e.engine, Now: e.now})
	// The wizard's fleet form gets the app's redirect URI from the logins'
	// memory, as after an earlier sign-in of the app. (The sandbox takes
	// any loopback redirect URI of an app it has none registered for, as
	// the custom kind's ephemeral ports need.)
	redirect := freeRedirect(t)
	logins := &oauth.Logins{Engine: e.engine, Manager: e.mgr, Presets: sandboxPresets(srv),
		RedirectFor: func(clientID string) string {
			if clientID == sandbox.FleetClientID {
				return redirect
			}
			return ""
		}}
	e.m = newModelFor(t, Options{Manager: e.mgr, Engine: e.engine, Logins: logins, Now: e.now}, 100, 30)
	e.m.clip = clipboard.New(e.clip, nil)
	e.d = newDriver(t, e.m)
	return e
}

// freeRedirect is a loopback redirect URI on a port free now.
func freeRedirect(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprintf("http://127.0.0.1:%d/callback", ln.Addr().(*net.TCPAddr).Port)
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

// minted is an account holding sandbox tokens, as if logged in earlier.
func minted(s *sandbox.Server, id, name string, kind accounts.Kind, req sandbox.MintRequest) accounts.Account {
	ts := s.Mint(req)
	a, _ := sandboxPresets(s)(kind, "na")
	a.ID, a.Name = id, name
	if req.ClientID != "" {
		a.ClientID = req.ClientID
	}
	if kind == accounts.KindCustom {
		iss := s.Issuer()
		a.Grant = accounts.GrantCode
		a.Endpoints = accounts.Endpoints{AuthURL: iss + "/authorize", TokenURL: iss + "/token", RevokeURL: iss + "/revoke"}
	}
	// The token counts as obtained 8 hours before it ends (Tesla's
	// lifetime), so that one near its end is not taken for a short-lived
	// token, whose refresh margin keyfob caps at half its life.
	obtained := ts.Expiry.Add(-8 * time.Hour)
	if now := time.Now(); obtained.After(now) {
		obtained = now
	}
	a.Apply(accounts.Grant{TokenType: "Bearer", AccessToken: ts.AccessToken, RefreshToken: ts.RefreshToken,
		IDToken: ts.IDToken, Expiry: ts.Expiry, GrantedScopes: ts.Scopes, Email: s.User().Email, Subject: id}, obtained)
	return a
}

var errNoBrowser = errors.New("no browser could be opened: none of xdg-open or wslview is installed, and $BROWSER is not set")

// ctx is a test context.
func ctx() context.Context { return context.Background() }
