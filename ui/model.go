// Package ui is keyfob's terminal interface, built on Bubble Tea v2: the
// account list with live countdowns and scope badges, the detail view, the
// login wizard and import form, confirm dialogs, help and toasts.
//
// Model is the one tea.Model. It routes every message (globals first:
// size, colours, quit; then the dialog on top; then the active screen),
// keeps the toasts, and runs every change to an account that the user
// decides in a dialog (changes.go). The parts live in their own packages
// and never hold the root: the list (ui/list), the detail page
// (ui/detail), the dialogs and their stack (ui/dialog), the wizard
// (ui/wizard), the refresh scheduler (ui/refresh) and the clipboard
// (ui/clipboard); what they share is in ui/common. Every operation on
// accounts runs in a tea.Cmd and comes back as a message, so Update never
// blocks.
package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/themes"
	"github.com/keyfob/keyfob/ui/clipboard"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/detail"
	"github.com/keyfob/keyfob/ui/dialog"
	"github.com/keyfob/keyfob/ui/list"
	"github.com/keyfob/keyfob/ui/present"
	"github.com/keyfob/keyfob/ui/refresh"
)

// Options configures Run.
type Options struct {
	Manager *accounts.Manager
	// Engine talks to the servers; nil means a zero oauth.Engine. It is
	// used for logins when Logins is nil.
	Engine *oauth.Engine
	// Logins signs in and imports for the login wizard; nil means one over
	// Engine and Manager with Tesla's presets. keyfob demo passes one
	// whose presets point at its sandbox. Without a redirect memory of
	// its own (RedirectFor, Remember) it gets the manager's.
	Logins *oauth.Logins
	Config accounts.Config
	// Theme is the --theme flag; it overrides Config.Theme when set.
	Theme string
	// Input is read for keys; nil means os.Stdin.
	Input io.Reader
	// Output receives the screen; nil means os.Stdout. When stdout is not
	// a terminal the caller passes os.Stderr, keeping stdout free.
	Output io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Banner is an optional one-line note shown under the header, e.g.
	// "demo — sandbox at http://127.0.0.1:…".
	Banner string
	// Browse, when set, replaces the user's browser in the login wizard: it
	// visits the sign-in address and returns the address it finally landed
	// on. For loopback logins that visit completes the login by itself; for
	// paste logins (the Owner API) the landed address is filled into the
	// paste field. keyfob demo sets it so every flow works without a
	// browser; nil means the engine opens the real browser.
	Browse func(ctx context.Context, authURL string) (landed string, err error)
}

// screen is the page the root model shows under any dialog.
type screen int

const (
	screenList screen = iota
	screenDetail
)

// How long a toast stays.
const (
	toastDuration  = 4 * time.Second
	errorToastTime = 10 * time.Second
)

// Model is the root model of the TUI. Create it with New.
type Model struct {
	c      *common.Common
	clock  func() time.Time
	keys   KeyMap
	banner string

	cfg      accounts.Config
	theme    themes.Theme
	isDark   bool
	noColor  bool
	spin     spinner.Model
	spinning bool

	store storeState
	// consumers are the consumers of keyfob serve, as last loaded.
	consumers []accounts.Consumer
	screen    screen
	list      *list.Model
	detail    *detail.Model
	dialogs   dialog.Stack
	sched     *refresh.Scheduler
	toast     toast
	toastFit  toastFit
	clip      *clipboard.Model
	heard     *heard
	footer    footerCache
	// frameSize is the length of the last list screen, to size the next.
	frameSize int
	quitting  bool
}

// toast is the transient message above the footer.
type toast struct {
	text string
	tone present.Tone
	seq  int
}

// New builds the root model. It fails only on a bad Options (no manager, an
// unknown --theme).
func New(ctx context.Context, o Options) (*Model, error) {
	if o.Manager == nil {
		return nil, errors.New("the TUI needs an account manager")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	logins := o.Logins
	if logins == nil {
		engine := o.Engine
		if engine == nil {
			engine = &oauth.Engine{}
		}
		logins = &oauth.Logins{Engine: engine, Manager: o.Manager}
	}
	if logins.Engine == nil {
		logins.Engine = &oauth.Engine{}
	}
	m := &Model{
		c: &common.Common{
			Ctx: ctx, Width: 80, Height: 24, Loc: time.Local,
			Manager: o.Manager, Logins: common.LoginsOf(logins), Browse: o.Browse, Engine: logins.Engine,
		},
		clock:  o.Now,
		keys:   DefaultKeyMap(),
		banner: o.Banner,
		cfg:    o.Config,
		isDark: true, // until the terminal answers
		clip:   clipboard.New(clipboard.System(), clipboard.Clearer{}.Schedule),
		heard:  &heard{},
	}
	m.c.Keys = common.KeyNames{New: m.keys.New.Help().Key, Import: m.keys.Import.Help().Key, Refresh: m.keys.Refresh.Help().Key,
		Revoke: m.keys.Revoke.Help().Key, Remove: m.keys.Remove.Help().Key, Edit: m.keys.Edit.Help().Key}
	m.listen(o, logins)
	if m.clock == nil {
		m.clock = time.Now
	}
	m.c.Now = m.clock()
	m.sched = refresh.New(m.c, func() time.Time { return m.clock() })
	m.c.Jobs = m.sched
	theme, note, err := pickTheme(o.Theme, o.Config.Theme)
	if err != nil {
		return nil, err
	}
	m.theme = theme
	m.spin = spinner.New(spinner.WithSpinner(spinner.MiniDot))
	m.list = list.New(m.c)
	m.detail = detail.New(m.c)
	m.applyStyles()
	if note != "" {
		m.setToast(note, present.ToneWarn)
	}
	return m, nil
}

// pickTheme is the --theme flag's theme, else the config's; an unknown
// one in the config falls back to the default with a note.
func pickTheme(flag, config string) (themes.Theme, string, error) {
	if flag != "" {
		t, err := themes.Get(flag)
		return t, "", err
	}
	t, err := themes.Get(config)
	if err != nil {
		t, _ = themes.Get(themes.Default)
		return t, fmt.Sprintf("the theme %q in the config is unknown; using %s (t picks another)", present.OneLine(config), t.Name), nil
	}
	return t, "", nil
}

// SetNoColor renders without colour (NO_COLOR): badges as words and the
// selection in reverse video.
func (m *Model) SetNoColor(on bool) {
	m.noColor = on
	m.applyStyles()
}

// applyStyles rebuilds the styles after a theme or background change.
func (m *Model) applyStyles() {
	m.c.Styles = common.NewStyles(m.theme, m.isDark, m.noColor)
	m.spin.Style = m.c.Styles.Spinner
	m.layout()
}

// resize lays everything out for a new terminal size.
func (m *Model) resize(w, h int) {
	m.c.Width, m.c.Height = max(w, 20), max(h, 8)
	m.layout()
}

// layout gives every part its size in the current styles.
func (m *Model) layout() {
	m.footer = footerCache{}
	m.c.Frame = m.spin.View()
	// Dialogs leave the header (and banner) and the footer in view.
	m.c.DialogTop, m.c.DialogBottom = 1, 1
	if m.banner != "" {
		m.c.DialogTop = 2
	}
	m.list.SetSize(m.c.Width, m.listRows())
	m.detail.SetSize(m.c.Width, m.detailHeight())
	m.dialogs.SetSize(m.c.Width, m.c.Height)
}

// Init implements tea.Model: ask for the background colour, read the
// store and start the countdown.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(tea.RequestBackgroundColor, m.loadCmd(), tickCmd())
}

// tickCmd arms the one tick of the whole screen, on the wall-clock second
// so every countdown changes together.
func tickCmd() tea.Cmd {
	return tea.Every(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Update implements tea.Model. Globals come first (size, colours, quit),
// then the dialog on top, then the active screen.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.fitToast()
	if m.screen == screenDetail {
		// Whatever changed (the clock, the account, the size, the theme,
		// the spinner), the page shows it.
		if r := m.list.Row(m.detail.ID()); r != nil {
			m.detail.SetConsumers(m.consumersOf(r.ID()))
			m.detail.Refresh(r)
		}
	}
	if spin := m.ensureSpinner(); spin != nil {
		cmd = tea.Batch(cmd, spin)
	}
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
		return nil
	case tea.BackgroundColorMsg:
		m.isDark = msg.IsDark()
		m.applyStyles()
		return nil
	case tea.KeyPressMsg:
		if key.Matches(msg, m.keys.Interrupt) {
			return m.quit()
		}
		if d := m.dialogs.Top(); d != nil {
			return m.updateDialog(d, msg)
		}
		return m.updateScreen(msg)
	case tea.PasteMsg:
		if d := m.dialogs.Top(); d != nil {
			return m.updateDialog(d, msg)
		}
		if m.screen == screenList && m.list.Filtering() {
			_, cmd := m.list.Update(msg)
			return cmd
		}
		return nil
	case spinner.TickMsg:
		if !m.sched.Busy() && !m.dialogs.Busy() {
			m.spinning = false
			return nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		m.c.Frame = m.spin.View()
		return cmd
	}
	if fin, cmd, ok := m.sched.Update(msg); ok {
		return tea.Batch(cmd, m.onFinished(fin))
	}
	if notice, cmd, ok := m.clip.Update(msg); ok {
		return tea.Batch(cmd, m.notify(notice))
	}
	if cmd, ok := m.handle(msg); ok {
		return cmd
	}
	// Anything else (a dialog's own results, input blinks) goes to the
	// dialogs, which ignore what is not theirs, and to an open filter.
	var cmds []tea.Cmd
	for _, d := range slices.Clone(m.dialogs.All()) {
		if m.dialogs.Has(d) { // not closed by the one before
			cmds = append(cmds, m.updateDialog(d, msg))
		}
	}
	if m.list.Filtering() {
		_, cmd := m.list.Update(msg)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// handle handles the root's own messages.
func (m *Model) handle(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case tickMsg:
		return tea.Batch(m.onTick(), m.showHeard()), true
	case storeChangedMsg:
		return m.onStoreChanged(), true
	case loadedMsg:
		return m.onLoaded(msg), true
	case changedMsg:
		return m.onChanged(msg), true
	case pairingMsg:
		m.detail.SetPairing(msg.id, msg.domain)
		return nil, true
	case configSavedMsg:
		if msg.err != nil {
			return m.setToast("the setting could not be saved: "+msg.err.Error(), present.ToneDanger), true
		}
		return nil, true
	case toastExpiredMsg:
		if msg.seq == m.toast.seq {
			m.toast = toast{text: "", seq: m.toast.seq}
		}
		return nil, true
	case openedMsg:
		if msg.err != nil {
			return m.setToast(fmt.Sprintf("could not open the %s: %v; c copies its address instead", msg.what, msg.err), present.ToneDanger), true
		}
		return nil, true
	}
	return nil, false
}

// updateDialog hands msg to dialog d and acts on what it decided.
func (m *Model) updateDialog(d dialog.Dialog, msg tea.Msg) tea.Cmd {
	action, cmd := d.Update(msg)
	return tea.Batch(cmd, m.act(d, action))
}

// ensureSpinner starts the spinner when something is busy and it is not
// already turning; it stops by itself once nothing is.
func (m *Model) ensureSpinner() tea.Cmd {
	if m.spinning || (!m.sched.Busy() && !m.dialogs.Busy()) {
		return nil
	}
	m.spinning = true
	return m.spin.Tick
}

// setToast shows a message above the footer for a while.
func (m *Model) setToast(text string, tone present.Tone) tea.Cmd {
	seq := m.toast.seq + 1
	m.toast = toast{text: text, tone: tone, seq: seq}
	d := toastDuration
	if tone == present.ToneDanger || tone == present.ToneWarn {
		d = errorToastTime
	}
	return tea.Tick(d, func(time.Time) tea.Msg { return toastExpiredMsg{seq: seq} })
}

// notify shows a part's notice, if it has one.
func (m *Model) notify(n common.Notice) tea.Cmd {
	if n.Text == "" {
		return nil
	}
	return m.setToast(n.Text, n.Tone)
}

// quit leaves the program, clearing a token still waiting in the
// clipboard. Close, which Run calls once the program has ended, closes a
// login in progress.
func (m *Model) quit() tea.Cmd {
	m.quitting = true
	if clear := m.clip.ClearOnQuit(); clear != nil {
		return tea.Sequence(clear, tea.Quit)
	}
	return tea.Quit
}

// Close releases what the model holds open: a login's loopback listener
// is closed before it returns. Run calls it when the program ends.
func (m *Model) Close() {
	m.dialogs.Clear()
	if m.store.w != nil {
		m.store.w.Close()
	}
}
