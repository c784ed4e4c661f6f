package ui

import (
	"fmt"
	"net/url"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// modal is a dialog on the stack: while open it gets every key. It tells
// the root what the user decided through an outcome (closeModalMsg,
// confirmRevokeMsg, …) that the root takes right after Update, so a key
// typed just after a dialog closes goes to the screen beneath it.
type modal interface {
	Init() tea.Cmd
	Update(msg tea.Msg) (modal, tea.Cmd)
	// Outcome returns, once, what the dialog decided in its last Update.
	Outcome() tea.Msg
	// View renders the dialog box; the root centres it over the screen.
	View() string
	// Busy reports whether the dialog shows the spinner.
	Busy() bool
	// Close releases what the dialog holds (a login's listener).
	Close()
	restyle()
	resize()
}

// outcome holds a dialog's decision until the root takes it.
type outcome struct{ msg tea.Msg }

// decide records the dialog's decision.
func (o *outcome) decide(msg tea.Msg) { o.msg = msg }

// Outcome implements modal.
func (o *outcome) Outcome() tea.Msg {
	msg := o.msg
	o.msg = nil
	return msg
}

// boxWidth is the width of a dialog box on the current screen: its ideal
// width, or the whole width when the screen is not much wider.
func (m *Model) boxWidth(ideal int) int {
	if ideal >= m.width-6 {
		return m.width
	}
	return ideal
}

// renderBox draws a dialog: title, body and a hint line, in a border of
// width w.
func renderBox(st *Styles, w int, title, body, hint string) string {
	inner := w - st.Dialog.GetHorizontalFrameSize()
	var b strings.Builder
	b.WriteString(st.DialogTitle.Render(clip(title, inner)))
	b.WriteString("\n\n")
	b.WriteString(body)
	if hint != "" {
		b.WriteString("\n\n")
		b.WriteString(st.Muted.Render(clip(hint, inner)))
	}
	return st.Dialog.Width(w).Render(b.String())
}

// paragraphs wraps each paragraph to width and separates them with a
// blank line.
func paragraphs(style lipgloss.Style, width int, paras ...string) string {
	out := make([]string, 0, len(paras))
	for _, p := range paras {
		lines := wrapText(p, width)
		for i, l := range lines {
			lines[i] = style.Render(l)
		}
		out = append(out, strings.Join(lines, "\n"))
	}
	return strings.Join(out, "\n\n")
}

// button is one choice of a confirm dialog.
type button struct {
	label  string
	keys   []string // shortcut keys, besides enter on the focused button
	danger bool
	msg    tea.Msg // sent when chosen
}

// confirmDialog asks a question with a few buttons.
type confirmDialog struct {
	outcome
	m       *Model
	title   string
	paras   []string
	link    string // an address shown below the text, e.g. a consent page
	buttons []button
	focus   int
	width   int
}

func (d *confirmDialog) Init() tea.Cmd { return nil }
func (d *confirmDialog) Busy() bool    { return false }
func (d *confirmDialog) Close()        {}
func (d *confirmDialog) restyle()      {}
func (d *confirmDialog) resize()       {}

func (d *confirmDialog) Update(msg tea.Msg) (modal, tea.Cmd) {
	kp, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return d, nil
	}
	k := kp.String()
	switch k {
	case "esc", "q":
		d.decide(closeModalMsg{})
		return d, nil
	case "left", "shift+tab", "h":
		d.focus = (d.focus + len(d.buttons) - 1) % len(d.buttons)
		return d, nil
	case "right", "tab", "l":
		d.focus = (d.focus + 1) % len(d.buttons)
		return d, nil
	case "enter", "space":
		d.decide(d.buttons[d.focus].msg)
		return d, nil
	}
	for _, b := range d.buttons {
		for _, bk := range b.keys {
			if k == bk {
				d.decide(b.msg)
				return d, nil
			}
		}
	}
	return d, nil
}

func (d *confirmDialog) View() string {
	st := d.m.st
	w := d.m.boxWidth(d.width)
	inner := w - st.Dialog.GetHorizontalFrameSize()
	body := paragraphs(st.Text, inner, d.paras...)
	if d.link != "" {
		body += "\n" + st.Link.Render(wrapLines(d.link, inner))
	}
	var btns []string
	for i, b := range d.buttons {
		style := st.Button
		if i == d.focus {
			style = st.ButtonActive
			if b.danger {
				style = st.ButtonDanger
			}
		}
		label := b.label
		if i == d.focus && st.Plain {
			label = "[" + label + "]"
		}
		btns = append(btns, style.Render(label))
	}
	body += "\n\n" + strings.Join(btns, " ")
	hint := "←/→ choose • enter confirm • esc cancel"
	if len(d.buttons) == 1 {
		hint = "enter or esc close"
	}
	return renderBox(st, w, d.title, body, hint)
}

// wrapLines wraps a long address over several lines, breaking it at its
// own separators or at the width.
func wrapLines(s string, width int) string {
	return strings.Join(wrapText(s, width), "\n")
}

// who names an account with its email, for dialogs.
func who(a accounts.Account) string {
	if a.Email != "" && !strings.EqualFold(a.Email, a.Name) {
		return fmt.Sprintf("%s (%s)", a.Name, a.Email)
	}
	return a.Name
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

// newRevokeConfirm asks before revoking, saying what will really happen.
func newRevokeConfirm(m *Model, a accounts.Account) modal {
	var paras []string
	if endpoint := oauth.RevokeEndpoint(a); endpoint != "" {
		paras = append(paras, fmt.Sprintf("keyfob will ask %s to revoke the tokens of %s. Whatever uses them stops working.", hostOf(endpoint), who(a)))
	} else {
		switch a.Kind {
		case accounts.KindFleet, accounts.KindOwner:
			paras = append(paras,
				fmt.Sprintf("Tesla documents no revocation endpoint for %s tokens, so keyfob can only mark %s revoked here; its tokens stay valid until they expire.", a.Kind, who(a)),
				"Afterwards keyfob shows Tesla's consent page, where you withdraw the app's access for good.")
		case accounts.KindPartner:
			paras = append(paras, fmt.Sprintf("Partner tokens cannot be revoked: keyfob can only mark %s revoked here; its access token stays valid until it expires.", who(a)))
		default:
			paras = append(paras, fmt.Sprintf("%s has no revocation endpoint, so keyfob can only mark it revoked here; its tokens stay valid until they expire.", who(a)))
		}
	}
	return &confirmDialog{
		m:     m,
		title: "Revoke " + a.Name + "?",
		paras: paras,
		width: 66,
		buttons: []button{
			{label: "y revoke", keys: []string{"y"}, danger: true, msg: confirmRevokeMsg{id: a.ID}},
			{label: "d revoke and remove", keys: []string{"d"}, danger: true, msg: confirmRevokeMsg{id: a.ID, remove: true}},
			{label: "n cancel", keys: []string{"n"}, msg: closeModalMsg{}},
		},
		focus: 2,
	}
}

// newRemoveConfirm asks before forgetting an account.
func newRemoveConfirm(m *Model, a accounts.Account) modal {
	paras := []string{fmt.Sprintf("keyfob forgets %s and its tokens. Nothing is sent to the server.", who(a))}
	if a.State != accounts.StateRevoked && (a.AccessToken != "" || a.RefreshToken != "") {
		paras = append(paras, "The tokens stay valid at the server until they expire; to kill them, revoke first (x).")
	}
	return &confirmDialog{
		m:     m,
		title: "Remove " + a.Name + "?",
		paras: paras,
		width: 60,
		buttons: []button{
			{label: "y remove", keys: []string{"y"}, danger: true, msg: confirmRemoveMsg{id: a.ID}},
			{label: "n cancel", keys: []string{"n"}, msg: closeModalMsg{}},
		},
		focus: 1,
	}
}

// newRevokeResult reports what a revocation did.
func newRevokeResult(m *Model, msg revokedMsg) modal {
	title, paras := revocationReport(msg)
	d := &confirmDialog{m: m, title: title, paras: paras, width: 70}
	if u := msg.rev.ConsentURL; u != "" {
		d.link = u
		d.buttons = []button{
			{label: "o open the consent page", keys: []string{"o"}, msg: openURLMsg{what: "consent page", url: u}},
			{label: "c copy its address", keys: []string{"c"}, msg: copyTextMsg{what: "the consent page address", text: u}},
			{label: "enter close", msg: closeModalMsg{}},
		}
		d.focus = len(d.buttons) - 1 // enter closes, as the label says
	} else {
		d.buttons = []button{{label: "enter close", msg: closeModalMsg{}}}
	}
	return d
}

// renameDialog edits an account's name.
type renameDialog struct {
	outcome
	m     *Model
	id    string
	old   string
	input textinput.Model
	err   string
}

func newRenameDialog(m *Model, a accounts.Account) modal {
	in := textinput.New()
	in.Prompt = ""
	in.CharLimit = 64
	in.SetValue(a.Name)
	in.CursorEnd()
	d := &renameDialog{m: m, id: a.ID, old: a.Name, input: in}
	d.restyle()
	d.resize()
	return d
}

func (d *renameDialog) Init() tea.Cmd { return d.input.Focus() }
func (d *renameDialog) Busy() bool    { return false }
func (d *renameDialog) Close()        {}
func (d *renameDialog) restyle()      { d.input.SetStyles(d.m.st.Input) }
func (d *renameDialog) resize() {
	d.input.SetWidth(d.m.boxWidth(50) - d.m.st.Dialog.GetHorizontalFrameSize() - 3)
}

// fail shows why the rename did not happen, keeping the dialog open.
func (d *renameDialog) fail(err error) { d.err = err.Error() }

func (d *renameDialog) Update(msg tea.Msg) (modal, tea.Cmd) {
	if kp, ok := msg.(tea.KeyPressMsg); ok {
		switch kp.String() {
		case "esc":
			d.decide(closeModalMsg{})
			return d, nil
		case "enter":
			name := strings.TrimSpace(d.input.Value())
			switch {
			case name == "":
				d.err = "a name cannot be empty; type one or press esc"
				return d, nil
			case name == d.old:
				d.decide(closeModalMsg{})
				return d, nil
			}
			d.err = ""
			d.decide(renameMsg{id: d.id, name: name})
			return d, nil
		}
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(msg)
	return d, cmd
}

func (d *renameDialog) View() string {
	st := d.m.st
	w := d.m.boxWidth(50)
	inner := w - st.Dialog.GetHorizontalFrameSize()
	body := st.LabelFocused.Render("› ") + d.input.View()
	if d.err != "" {
		body += "\n\n" + paragraphs(st.ErrorText, inner, d.err)
	}
	return renderBox(st, w, "Rename "+d.old, body, "enter save • esc cancel")
}

// helpModal is the `?` screen: every key, and what the states mean.
type helpModal struct {
	outcome
	m *Model
}

func newHelpModal(m *Model) modal { return &helpModal{m: m} }

func (h *helpModal) Init() tea.Cmd { return nil }
func (h *helpModal) Busy() bool    { return false }
func (h *helpModal) Close()        {}
func (h *helpModal) restyle()      {}
func (h *helpModal) resize()       {}

func (h *helpModal) Update(msg tea.Msg) (modal, tea.Cmd) {
	if kp, ok := msg.(tea.KeyPressMsg); ok {
		switch kp.String() {
		case "esc", "?", "q", "enter":
			h.decide(closeModalMsg{})
			return h, nil
		}
	}
	return h, nil
}

func (h *helpModal) View() string {
	m := h.m
	st := m.st
	w := m.boxWidth(84)
	inner := w - st.Dialog.GetHorizontalFrameSize()
	keys := fullHelp(m.help, m.keys, inner)

	legend := []string{
		st.OK.Render("✓ valid") + "  " + st.Warn.Render("! expiring within the hour, or refresh failed") + "  " + st.Danger.Render("✗ expired"),
		st.Info.Render(m.spin.View()+" refreshing") + "  " + st.Muted.Render("⊘ revoked") + "  " + st.Danger.Render("⊗ login required") + "  " + st.Danger.Render("✗ error"),
		"Countdown: " + st.Fine.Render("more than 1 h") + " · " + st.Warning.Render("under 1 h") + " · " +
			st.Critical.Render("under 10 min") + " · " + st.Expired.Render("expired"),
	}
	auto := "off"
	if m.cfg.AutoRefreshOn() {
		auto = fmt.Sprintf("on — tokens are refreshed %s before they expire; failures back off up to %s", approx(m.cfg.Margin()), approx(backoffMax))
	}
	settings := paragraphs(st.Muted, inner,
		"Auto-refresh is "+auto+". Accounts that need a new login are never retried on their own.",
		fmt.Sprintf("Theme: %s. Copied tokens leave the clipboard after %s if it still holds them.", m.theme.Name, clearText(m.cfg)))
	// On short terminals the notes give way to the keys.
	box := renderBox(st, w, "keyfob — keys", keys+"\n\n"+strings.Join(legend, "\n")+"\n\n"+settings, "esc or ? close")
	if lipgloss.Height(box) > m.height {
		box = renderBox(st, w, "keyfob — keys", keys+"\n\n"+strings.Join(legend, "\n"), "esc or ? close")
	}
	if lipgloss.Height(box) > m.height {
		box = renderBox(st, w, "keyfob — keys", keys, "esc or ? close")
	}
	return box
}

// fullHelp renders every key in as many columns as fit in width: three,
// else two, else one, so that a narrow terminal loses no key.
func fullHelp(hm help.Model, keys KeyMap, width int) string {
	hm.ShowAll = true
	hm.SetWidth(0)
	groups := keys.FullHelp()
	for cols := len(groups); ; cols-- {
		out := hm.View(regrouped(groups, cols))
		if cols == 1 || lipgloss.Width(out) <= width {
			return out
		}
	}
}

// helpGroups is a help.KeyMap of given columns.
type helpGroups [][]key.Binding

func (g helpGroups) ShortHelp() []key.Binding  { return nil }
func (g helpGroups) FullHelp() [][]key.Binding { return g }

// regrouped spreads the bindings of groups over n columns, in order.
func regrouped(groups [][]key.Binding, n int) helpGroups {
	if n >= len(groups) {
		return groups
	}
	var all []key.Binding
	for _, g := range groups {
		all = append(all, g...)
	}
	per := (len(all) + n - 1) / n
	var out helpGroups
	for len(all) > 0 {
		k := min(per, len(all))
		out = append(out, all[:k])
		all = all[k:]
	}
	return out
}

func clearText(c accounts.Config) string {
	if c.ClearAfter() <= 0 {
		return "never (clipboard clearing is off)"
	}
	return shortDuration(c.ClearAfter())
}
