// Package ui is keyfob's terminal interface, built on Bubble Tea v2: the
// account list with live countdowns and scope badges, the detail view, the
// login wizard and import form, confirm dialogs, help and toasts.
//
// There is one tea.Model, Model. Screens (list, detail) are a state of it;
// dialogs are a stack of modals that take all input while open. Every
// operation on accounts goes through accounts.Manager inside a tea.Cmd and
// comes back as a message, so Update never blocks.
package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/themes"
)

// Options configures Run.
type Options struct {
	Manager *accounts.Manager
	Engine  *oauth.Engine
	Config  accounts.Config
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
	// Presets returns the defaults the login wizard and import form start
	// from for a kind and region; nil means oauth.Preset (Tesla's
	// endpoints). keyfob demo points them at its sandbox.
	Presets func(kind accounts.Kind, region string) (accounts.Account, error)
	// Browse, when set, replaces the user's browser in the login wizard: it
	// visits the sign-in address and returns the address it finally landed
	// on. For loopback logins that visit completes the login by itself; for
	// paste logins (the Owner API) the landed address is filled into the
	// paste field. keyfob demo sets it so every flow works without a
	// browser; nil means the engine opens the real browser.
	Browse func(ctx context.Context, authURL string) (landed string, err error)
}

// screen is the page the root model shows under any modal.
type screen int

const (
	screenList screen = iota
	screenDetail
)

// Limits of background work.
const (
	maxInFlight    = 6                // refreshes running at once
	backoffBase    = 30 * time.Second // first auto-refresh retry after a failure
	backoffMax     = 30 * time.Minute
	toastDuration  = 4 * time.Second
	errorToastTime = 10 * time.Second
	clipReadWait   = 1500 * time.Millisecond
)

// Model is the root model of the TUI. Create it with New.
type Model struct {
	ctx     context.Context
	mgr     *accounts.Manager
	engine  *oauth.Engine
	presets func(accounts.Kind, string) (accounts.Account, error)
	browse  func(context.Context, string) (string, error)
	clock   func() time.Time
	loc     *time.Location
	banner  string

	cfg     accounts.Config
	theme   themes.Theme
	isDark  bool
	noColor bool
	st      *Styles
	keys    KeyMap
	help    help.Model

	width, height int
	now           time.Time

	// The accounts.
	loaded    bool
	loadErr   error
	rows      []*row
	byID      map[string]int
	visible   []int // indices into rows that pass the filter
	cursor    int   // index into visible
	offset    int   // first visible row on screen
	stamp     string
	reloading bool
	watching  bool // a look at the store's stamp is under way

	filtering bool // the filter input has the keyboard
	filter    textinput.Model
	query     string // the applied filter, lower case

	screen   screen
	detail   detailView
	modals   []modal
	quitting bool
	// selectAfterLoad is an account just saved, selected once a reload
	// shows it.
	selectAfterLoad string

	// Refreshes.
	inflight int
	queue    []queued
	nextDue  time.Time
	spin     spinner.Model
	spinning bool
	busy     int // rows with a refresh in flight or queued
	batch    batchState

	toast    toast
	toastSeq int

	clip   clipState
	native Clipboard

	lv          listView
	gen         uint64
	footer      string
	footerKey   uint64
	footerWidth int
}

// toast is the transient message above the footer.
type toast struct {
	text string
	kind statusKind
	seq  int
}

// New builds the root model. It fails only on a bad Options (no manager, an
// unknown --theme).
func New(ctx context.Context, o Options) (*Model, error) {
	if o.Manager == nil || o.Manager.Store == nil {
		return nil, errors.New("the TUI needs an account manager with a store")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	m := &Model{
		ctx:     ctx,
		mgr:     o.Manager,
		engine:  o.Engine,
		presets: o.Presets,
		browse:  o.Browse,
		clock:   o.Now,
		loc:     time.Local,
		banner:  o.Banner,
		cfg:     o.Config,
		isDark:  true, // until the terminal answers
		keys:    DefaultKeyMap(),
		help:    help.New(),
		width:   80,
		height:  24,
		byID:    map[string]int{},
		native:  nativeClipboard(),
	}
	if m.engine == nil {
		m.engine = &oauth.Engine{}
	}
	if m.presets == nil {
		m.presets = oauth.Preset
	}
	if m.clock == nil {
		m.clock = time.Now
	}
	m.now = m.clock()
	var themeNote string
	switch {
	case o.Theme != "":
		t, err := themes.Get(o.Theme)
		if err != nil {
			return nil, err
		}
		m.theme = t
	default:
		t, err := themes.Get(o.Config.Theme)
		if err != nil {
			t, _ = themes.Get(themes.Default)
			themeNote = fmt.Sprintf("the theme %q in the config is unknown; using %s (t picks another)", o.Config.Theme, t.Name)
		}
		m.theme = t
	}
	m.spin = spinner.New(spinner.WithSpinner(spinner.MiniDot))
	m.filter = textinput.New()
	m.filter.Prompt = "/ "
	m.filter.Placeholder = "name, email or scope"
	m.filter.CharLimit = 100
	m.applyStyles()
	if themeNote != "" {
		m.setToast(themeNote, statusWarn)
	}
	return m, nil
}

// SetNoColor renders without colour (NO_COLOR): badges as words and the
// selection in reverse video.
func (m *Model) SetNoColor(on bool) {
	m.noColor = on
	m.applyStyles()
}

// applyStyles rebuilds the styles after a theme or background change.
func (m *Model) applyStyles() {
	m.st = NewStyles(m.theme, m.isDark, m.noColor)
	m.help.Styles = m.st.Help
	m.spin.Style = m.st.Spinner
	m.filter.SetStyles(m.st.Input)
	m.gen++
	m.footer = ""
	m.lv = listView{st: m.st, l: computeLayout(m.width), gen: m.gen, gapStr: "  "}
	for _, md := range m.modals {
		md.restyle()
	}
}

// Init implements tea.Model: ask for the background colour, read the
// store and start the countdown.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(tea.RequestBackgroundColor, m.loadCmd(), m.tickCmd())
}

// tickCmd arms the one tick of the whole screen, on the wall-clock second
// so every countdown changes together.
func (m *Model) tickCmd() tea.Cmd {
	return tea.Every(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Update implements tea.Model. Globals come first (size, colours, quit),
// then the open modal, then the active screen.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	if m.screen == screenDetail {
		// Whatever changed (the clock, the account, the size, the theme,
		// the spinner), the page shows it.
		m.refreshDetail()
	}
	m.syncKeys()
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
	case tickMsg:
		return m.onTick()
	case stampMsg:
		return m.onStamp(msg)
	case spinner.TickMsg:
		if m.busy == 0 && !m.modalBusy() {
			m.spinning = false
			return nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return cmd
	case tea.KeyPressMsg:
		if msg.String() == "ctrl+c" {
			return m.quit()
		}
		if len(m.modals) > 0 {
			return m.updateModal(msg)
		}
		return m.updateKeys(msg)
	case tea.PasteMsg:
		if len(m.modals) > 0 {
			return m.updateModal(msg)
		}
		if m.filtering {
			return m.updateFilter(msg)
		}
		return nil
	}
	if cmd, ok := m.handleResult(msg); ok {
		return cmd
	}
	// Anything else (async results of a wizard, input blinks) goes to the
	// modals, which ignore what is not theirs.
	var cmds []tea.Cmd
	for i := 0; i < len(m.modals); i++ {
		md := m.modals[i]
		var cmd tea.Cmd
		m.modals[i], cmd = md.Update(msg)
		cmds = append(cmds, cmd, m.takeOutcome(md))
	}
	if m.filtering {
		cmds = append(cmds, m.updateFilter(msg))
	}
	return tea.Batch(cmds...)
}

// handleResult handles the root's own messages.
func (m *Model) handleResult(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case loadedMsg:
		return m.onLoaded(msg), true
	case refreshedMsg:
		return m.onRefreshed(msg), true
	case revokedMsg:
		return m.onRevoked(msg), true
	case removedMsg:
		return m.onRemoved(msg), true
	case renamedMsg:
		return m.onRenamed(msg), true
	case accountSavedMsg:
		return m.onSaved(msg), true
	case configSavedMsg:
		if msg.err != nil {
			return m.setToast("the setting could not be saved: "+msg.err.Error(), statusDanger), true
		}
		return nil, true
	case toastExpiredMsg:
		if msg.seq == m.toast.seq {
			m.toast = toast{}
		}
		return nil, true
	case clipClearMsg:
		return m.onClipClear(msg), true
	case clipReadTimeoutMsg:
		return m.onClipReadTimeout(msg), true
	case tea.ClipboardMsg:
		return m.onClipboardRead(msg), true
	case clipClearedMsg:
		if msg.cleared {
			return m.setToast("clipboard cleared", statusMuted), true
		}
		return nil, true
	case openedMsg:
		if msg.err != nil {
			return m.setToast(fmt.Sprintf("could not open the %s: %v; copy the address instead", msg.what, msg.err), statusDanger), true
		}
		return nil, true
	case closeModalMsg:
		m.popModal()
		return nil, true
	case confirmRevokeMsg:
		m.popModal()
		return m.revokeCmd(msg.id, msg.remove), true
	case confirmRemoveMsg:
		m.popModal()
		return m.removeCmd(msg.id), true
	case renameMsg:
		return m.renameCmd(msg.id, msg.name), true
	case copyTextMsg:
		return m.copyText(msg.what, msg.text), true
	case openURLMsg:
		return openURLCmd(msg.what, msg.url), true
	case wizFlowMsg:
		if !m.wizardOpen() && msg.flow != nil {
			// The wizard closed while the flow was being set up: nobody
			// will wait on its listener.
			go func() { _ = msg.flow.Close() }()
			return nil, true
		}
	}
	return nil, false
}

// resize lays everything out for a new terminal size.
func (m *Model) resize(w, h int) {
	m.width, m.height = max(w, 20), max(h, 8)
	m.help.SetWidth(m.width - 2)
	m.filter.SetWidth(max(m.width-24, 10))
	m.gen++
	m.lv.l = computeLayout(m.width)
	m.lv.gen = m.gen
	m.footer = ""
	m.detail.setSize(m.width, m.detailHeight())
	for _, md := range m.modals {
		md.resize()
	}
	m.ensureVisible()
}

// pushModal opens a modal on top of the stack.
func (m *Model) pushModal(md modal) tea.Cmd {
	m.modals = append(m.modals, md)
	return md.Init()
}

// popModal closes the top modal.
func (m *Model) popModal() {
	if n := len(m.modals); n > 0 {
		m.modals[n-1].Close()
		m.modals = m.modals[:n-1]
	}
}

func (m *Model) updateModal(msg tea.Msg) tea.Cmd {
	n := len(m.modals) - 1
	md := m.modals[n]
	var cmd tea.Cmd
	m.modals[n], cmd = md.Update(msg)
	return tea.Batch(cmd, m.takeOutcome(md))
}

// takeOutcome acts at once on what a dialog decided.
func (m *Model) takeOutcome(md modal) tea.Cmd {
	out := md.Outcome()
	if out == nil {
		return nil
	}
	cmd, _ := m.handleResult(out)
	return cmd
}

// wizardOpen reports whether a login wizard or import form is open.
func (m *Model) wizardOpen() bool {
	for _, md := range m.modals {
		if _, ok := md.(*wizard); ok {
			return true
		}
	}
	return false
}

// modalBusy reports whether a modal shows the spinner.
func (m *Model) modalBusy() bool {
	for _, md := range m.modals {
		if md.Busy() {
			return true
		}
	}
	return false
}

// ensureSpinner starts the spinner when something is busy and it is not
// already turning; it stops by itself once nothing is.
func (m *Model) ensureSpinner() tea.Cmd {
	if m.spinning || (m.busy == 0 && !m.modalBusy()) {
		return nil
	}
	m.spinning = true
	return m.spin.Tick
}

// quit leaves the program, clearing a token still waiting in the
// clipboard. Close, which Run calls once the program has ended, closes a
// login in progress.
func (m *Model) quit() tea.Cmd {
	m.quitting = true
	if clear := m.clearOnQuit(); clear != nil {
		return tea.Sequence(clear, tea.Quit)
	}
	return tea.Quit
}

// Close releases what the model holds open: a login's loopback listener
// is closed before it returns. Run calls it when the program ends.
func (m *Model) Close() {
	for _, md := range m.modals {
		if w, ok := md.(*wizard); ok {
			w.shutdown()
		}
	}
	for len(m.modals) > 0 {
		m.popModal()
	}
}

// updateKeys handles a key on the active screen.
func (m *Model) updateKeys(msg tea.KeyPressMsg) tea.Cmd {
	if m.filtering {
		return m.updateFilter(msg)
	}
	k := &m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		return m.pushModal(newHelpModal(m))
	case key.Matches(msg, k.New):
		return m.pushModal(newWizard(m, modeLogin))
	case key.Matches(msg, k.Import):
		return m.pushModal(newWizard(m, modeImport))
	case key.Matches(msg, k.RefreshAll):
		return m.refreshAll()
	case key.Matches(msg, k.AutoRefresh):
		return m.toggleAuto()
	case key.Matches(msg, k.Theme):
		return m.nextTheme()
	}
	if m.screen == screenDetail {
		return m.updateDetailKeys(msg)
	}
	switch {
	case key.Matches(msg, k.Up):
		m.move(-1)
	case key.Matches(msg, k.Down):
		m.move(1)
	case key.Matches(msg, k.PageUp):
		m.move(-max(m.listRows()-1, 1))
	case key.Matches(msg, k.PageDown):
		m.move(max(m.listRows()-1, 1))
	case key.Matches(msg, k.Top):
		m.move(-len(m.visible))
	case key.Matches(msg, k.Bottom):
		m.move(len(m.visible))
	case key.Matches(msg, k.Filter):
		m.filtering = true
		m.filter.SetValue(m.query)
		m.filter.CursorEnd()
		return m.filter.Focus()
	case key.Matches(msg, k.ClearFilter):
		m.setQuery("")
	case key.Matches(msg, k.Details):
		if r := m.selected(); r != nil {
			m.screen = screenDetail
			m.detail = newDetailView(r.acct.ID)
			m.detail.setSize(m.width, m.detailHeight())
		}
	default:
		if r := m.selected(); r != nil {
			return m.accountKeys(msg, r)
		}
	}
	return nil
}

// updateDetailKeys handles the keys of the detail view.
func (m *Model) updateDetailKeys(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	if key.Matches(msg, k.Back) {
		m.screen = screenList
		return nil
	}
	r := m.rowByID(m.detail.id)
	if r == nil {
		m.screen = screenList
		return nil
	}
	if cmd := m.accountKeys(msg, r); cmd != nil {
		return cmd
	}
	return m.detail.update(msg)
}

// accountKeys handles the keys that act on one account, from the list or
// the detail view.
func (m *Model) accountKeys(msg tea.KeyPressMsg, r *row) tea.Cmd {
	k := &m.keys
	switch {
	case key.Matches(msg, k.Refresh):
		return m.refreshRows(false, r)
	case key.Matches(msg, k.CopyAccess):
		return m.copyToken(r, false)
	case key.Matches(msg, k.CopyRefresh):
		return m.copyToken(r, true)
	case key.Matches(msg, k.Revoke):
		return m.pushModal(newRevokeConfirm(m, r.acct))
	case key.Matches(msg, k.Remove):
		return m.pushModal(newRemoveConfirm(m, r.acct))
	case key.Matches(msg, k.Rename):
		return m.pushModal(newRenameDialog(m, r.acct))
	}
	return m.explainDisabled(msg, r)
}

// explainDisabled says why an account key does nothing right now, instead
// of ignoring it silently. A disabled copy goes to copyToken, which says
// what is missing.
func (m *Model) explainDisabled(msg tea.KeyPressMsg, r *row) tea.Cmd {
	k, a := &m.keys, &r.acct
	switch pressed := msg.String(); {
	case slices.Contains(k.CopyAccess.Keys(), pressed):
		return m.copyToken(r, false)
	case slices.Contains(k.CopyRefresh.Keys(), pressed):
		return m.copyToken(r, true)
	case slices.Contains(k.Refresh.Keys(), pressed) && !r.busy && !r.queued:
		if a.State == accounts.StateRevoked {
			return m.setToast(a.Name+" was revoked; sign in again with n", statusWarn)
		}
		return m.setToast(a.Name+" has no refresh token; sign in again with n or import one with i", statusWarn)
	case slices.Contains(k.Revoke.Keys(), pressed):
		return m.setToast(a.Name+" is already revoked and holds no token; d removes it", statusWarn)
	}
	return nil
}

// updateFilter feeds the filter input while it has the keyboard.
func (m *Model) updateFilter(msg tea.Msg) tea.Cmd {
	if kp, ok := msg.(tea.KeyPressMsg); ok {
		switch kp.String() {
		case "esc":
			m.filtering = false
			m.filter.Blur()
			m.setQuery("")
			return nil
		case "enter":
			m.filtering = false
			m.filter.Blur()
			return nil
		case "up":
			m.move(-1)
			return nil
		case "down":
			m.move(1)
			return nil
		}
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	m.setQuery(m.filter.Value())
	return cmd
}

// setQuery applies a filter text.
func (m *Model) setQuery(q string) {
	q = strings.ToLower(q)
	if q == m.query && len(m.visible) > 0 {
		return
	}
	m.query = q
	if q == "" {
		m.filter.SetValue("")
	}
	m.applyFilter()
}

// applyFilter recomputes the visible rows, keeping the selection on the
// same account when it is still visible.
func (m *Model) applyFilter() {
	id := ""
	if r := m.selected(); r != nil {
		id = r.acct.ID
	}
	m.filterKeeping(id)
}

// filterKeeping recomputes the visible rows and puts the cursor on the
// account id when it is visible.
func (m *Model) filterKeeping(id string) {
	m.visible = m.visible[:0]
	for i, r := range m.rows {
		if m.query == "" || r.matches(m.query) {
			m.visible = append(m.visible, i)
		}
	}
	m.selectID(id)
}

// selectID moves the cursor to the account id, or keeps it in range.
func (m *Model) selectID(id string) {
	if id != "" {
		if i, ok := m.byID[id]; ok {
			for vi, ri := range m.visible {
				if ri == i {
					m.cursor = vi
					m.ensureVisible()
					return
				}
			}
		}
	}
	m.cursor = min(m.cursor, max(len(m.visible)-1, 0))
	m.ensureVisible()
}

// selected is the row under the cursor, or nil.
func (m *Model) selected() *row {
	if m.cursor < 0 || m.cursor >= len(m.visible) || m.visible[m.cursor] >= len(m.rows) {
		return nil
	}
	return m.rows[m.visible[m.cursor]]
}

// current is the account the actions apply to: the one in the detail view,
// else the selected one.
func (m *Model) current() *row {
	if m.screen == screenDetail {
		return m.rowByID(m.detail.id)
	}
	return m.selected()
}

func (m *Model) rowByID(id string) *row {
	if i, ok := m.byID[id]; ok {
		return m.rows[i]
	}
	return nil
}

// move moves the cursor by delta rows, clamped.
func (m *Model) move(delta int) {
	if len(m.visible) == 0 {
		return
	}
	m.cursor = min(max(m.cursor+delta, 0), len(m.visible)-1)
	m.ensureVisible()
}

// ensureVisible scrolls so that the cursor is on screen.
func (m *Model) ensureVisible() {
	n := m.listRows()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+n {
		m.offset = m.cursor - n + 1
	}
	m.offset = max(min(m.offset, len(m.visible)-n), 0)
}

// syncKeys enables exactly the bindings that apply now.
func (m *Model) syncKeys() {
	k := &m.keys
	list := m.screen == screenList
	r := m.current()
	has := r != nil
	many := list && len(m.visible) > 1
	for _, b := range []*key.Binding{&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.Top, &k.Bottom, &k.moveHelp} {
		b.SetEnabled(many)
	}
	k.scrollHelp.SetEnabled(!list)
	k.Back.SetEnabled(!list)
	k.Details.SetEnabled(list && has)
	k.Filter.SetEnabled(list && len(m.rows) > 0)
	k.ClearFilter.SetEnabled(list && m.query != "")
	k.New.SetEnabled(m.loadErr == nil)
	k.Import.SetEnabled(m.loadErr == nil)
	k.emptyImport.SetEnabled(m.loaded && m.loadErr == nil && len(m.rows) == 0)
	k.Refresh.SetEnabled(has && !r.busy && !r.queued && r.acct.State != accounts.StateRevoked && r.acct.Refreshable())
	k.RefreshAll.SetEnabled(m.anyRefreshable())
	k.CopyAccess.SetEnabled(has && r.acct.AccessToken != "")
	k.CopyRefresh.SetEnabled(has && r.acct.RefreshToken != "")
	k.Revoke.SetEnabled(has && (r.acct.State != accounts.StateRevoked || r.acct.AccessToken != "" || r.acct.RefreshToken != ""))
	k.Remove.SetEnabled(has)
	k.Rename.SetEnabled(has)
}

// anyRefreshable reports whether refresh-all has something to do. It
// stops at the first match, so it is cheap on every update.
func (m *Model) anyRefreshable() bool {
	for _, r := range m.rows {
		if refreshableNow(r) {
			return true
		}
	}
	return false
}

// refreshableNow reports whether a refresh of r may start: it can be
// refreshed, is not revoked, is not waiting for a new login and is not
// already refreshing.
func refreshableNow(r *row) bool {
	a := &r.acct
	return !r.busy && !r.queued && a.Refreshable() &&
		a.State != accounts.StateRevoked && a.State != accounts.StateLoginRequired
}

// setToast shows a message above the footer for a while.
func (m *Model) setToast(text string, kind statusKind) tea.Cmd {
	m.toastSeq++
	m.toast = toast{text: text, kind: kind, seq: m.toastSeq}
	d := toastDuration
	if kind == statusDanger || kind == statusWarn {
		d = errorToastTime
	}
	seq := m.toastSeq
	return tea.Tick(d, func(time.Time) tea.Msg { return toastExpiredMsg{seq: seq} })
}
