package ui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/clipboard"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// rejecting is a server that rejects every refresh token, as after a
// password change.
type rejecting struct{ keyfobtest.NoServer }

func (rejecting) Refresh(context.Context, accounts.Account) (accounts.Grant, error) {
	return accounts.Grant{}, fmt.Errorf("the server rejected the refresh token (login_required): %w", accounts.ErrLoginRequired)
}

// fakeClipboard records what keyfob puts on the native clipboard.
type fakeClipboard struct {
	mu   sync.Mutex
	text string
}

func (c *fakeClipboard) ReadAll() (string, error) { return c.get(), nil }
func (c *fakeClipboard) WriteAll(s string) error  { c.set(s); return nil }

func (c *fakeClipboard) get() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.text
}

func (c *fakeClipboard) set(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.text = s
}

// newViewModel builds a model over accts at a fixed instant, sized w×h and
// loaded, without a program.
func newViewModel(t testing.TB, accts []accounts.Account, w, h int) *Model {
	t.Helper()
	return newViewModelAuth(t, accts, w, h, keyfobtest.NoServer{})
}

// newViewModelAuth is newViewModel whose manager asks auth for refreshes.
func newViewModelAuth(t testing.TB, accts []accounts.Account, w, h int, auth accounts.Authority) *Model {
	t.Helper()
	mgr := keyfobtest.Manager(t, accts, accounts.Options{Auth: auth, Now: func() time.Time { return keyfobtest.Now }})
	return newModelFor(t, Options{Manager: mgr, Engine: &oauth.Engine{}, Now: func() time.Time { return keyfobtest.Now }}, w, h)
}

// newModelFor builds a loaded model from options, sized w×h.
func newModelFor(t testing.TB, o Options, w, h int) *Model {
	t.Helper()
	// The model's context ends with the test, and with it the commands
	// that wait for the store to change.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m, err := New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	m.c.Loc = time.UTC
	m.clip = clipboard.New(&fakeClipboard{}, nil)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.Update(m.loadCmd()())
	return m
}

// plain is the plain text of the model's view.
func plain(m *Model) string {
	return ansi.Strip(m.View().Content)
}

// dialogText is the plain text of the dialog on top (keyfobtest.BoxText),
// "" when no dialog is open.
func dialogText(m *Model) string {
	if d := m.dialogs.Top(); d != nil {
		return keyfobtest.BoxText(d.View())
	}
	return ""
}

// focusedField is the label of the form field with the focus (without the
// * of a required one), or "".
func focusedField(m *Model) string {
	l := focusedLine(m)
	return strings.TrimSuffix(strings.TrimSpace(l[:min(15, len(l))]), "*")
}

// focusedLine is the line of the dialog on top marked with "› ", without
// the marker and the border, or "".
func focusedLine(m *Model) string {
	d := m.dialogs.Top()
	if d == nil {
		return ""
	}
	for _, l := range strings.Split(ansi.Strip(d.View()), "\n") {
		l = strings.TrimSpace(strings.Trim(strings.TrimSpace(l), "│"))
		if rest, ok := strings.CutPrefix(l, "› "); ok {
			return rest
		}
	}
	return ""
}

// press sends keys to the model (see keyfobtest.Keys). Commands are
// returned, not run.
func press(m *Model, keys ...string) []tea.Cmd {
	var cmds []tea.Cmd
	for _, msg := range keyfobtest.Keys(keys...) {
		_, cmd := m.Update(msg)
		cmds = append(cmds, cmd)
	}
	return cmds
}

// ioPipe is an input that never sends a key.
func ioPipe() (*io.PipeReader, *io.PipeWriter) { return io.Pipe() }

// withSignIn makes the model's logins begin s instead of a real sign-in
// (whose address carries a random state and port).
func withSignIn(m *Model, s *keyfobtest.SignIn) {
	m.c.Logins = keyfobtest.Logins{Logins: m.c.Logins, SignIn: s}
}

// pasteStep is the fixtures' screen at w×h with the wizard on the browser
// page of an Owner API sign-in, which asks for the address to paste.
func pasteStep(t *testing.T, w, h int) *Model {
	m := newViewModel(t, keyfobtest.Fixtures(), w, h)
	withSignIn(m, keyfobtest.PasteSignIn())
	d := newDriver(t, m)
	d.Press("n", "down", "enter", "enter", "enter") // owner → na → sign in
	d.Until("the browser step", func() bool { return strings.Contains(dialogText(m), "open this address") })
	d.Settle()
	return m
}
