package wizard

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// attempt is the sign-in or import under way. Every try gets a new id;
// the results of an abandoned try carry an old one and are dropped.
type attempt struct {
	id     int
	ctx    context.Context // the try's context; esc cancels it
	cancel context.CancelFunc
	signIn common.SignIn // a browser sign-in waiting for the user

	authURL, redirect string
	loopback          bool // a listener waits for the browser
	exchanging        bool // a pasted address is being exchanged
	// holdOn is set while an import runs: the server rotates the refresh
	// token, so abandoning the request could lose the only live one.
	holdOn bool
	// userInfo is the userinfo endpoint an issuer's discovery document
	// named, kept for the next try once the form holds the other ones.
	userInfo string
	// helpScroll is the first paste-help line shown when the screen is
	// too short for all of them; helpWindow is how many the last frame
	// showed.
	helpScroll, helpWindow int
}

// Messages of the wizard's commands, tied to the try that started them.
type (
	discoveredMsg struct {
		id  int
		p   oauth.Prepared
		err error
	}
	begunMsg struct {
		id int
		s  common.SignIn
	}
	browsedMsg struct {
		id     int
		landed string
		err    error
	}
	doneMsg struct {
		id       int
		saved    oauth.Saved
		err      error
		fromWait bool // the end of a wait for the loopback listener
	}
)

// request is the form as oauth.Logins takes it; with discover, the issuer
// is part of it (its discovery document is then read).
func (w *Model) request(discover bool) oauth.Request {
	in := w.form.inputs()
	if !discover {
		delete(in, oauth.FieldIssuer)
	}
	if w.run.userInfo != "" {
		in[oauth.FieldUserInfoURL] = w.run.userInfo
	}
	return oauth.Request{Purpose: w.purpose, Kind: w.kind, Region: w.region, Grant: w.grant, Inputs: in}
}

// submit checks the form and starts the sign-in or import: a required
// field left empty is named at once; an issuer is read when an endpoint it
// would fill is empty; otherwise the account is prepared on the spot
// (without an issuer that needs no I/O), so a bad field shows at once.
func (w *Model) submit() tea.Cmd {
	w.err, w.note = "", ""
	w.fillRedirect()
	if i := w.form.missing(); i >= 0 {
		t := kindText(w.kind, w.form.fields[i].req.Field)
		w.err = fmt.Sprintf("%s is required. %s", t.label, t.help)
		return w.form.focusOn(i)
	}
	if issuer := w.form.value(oauth.FieldIssuer); issuer != "" && w.form.needsDiscovery() {
		return w.discover(issuer)
	}
	p, err := w.c.Logins.Prepare(w.c.Ctx, w.request(false))
	if err != nil {
		return w.fieldError(err)
	}
	return w.proceed(p)
}

// fieldError shows a preparation error in the form's words: the problem,
// then the field to fill in or fix, which gets the focus.
func (w *Model) fieldError(err error) tea.Cmd {
	var fe *oauth.FieldError
	if !errors.As(err, &fe) {
		w.err = err.Error()
		return nil
	}
	w.err = fe.Problem
	if errors.Is(err, oauth.ErrInsecureHTTP) {
		// The opt-in is the command line's, with its warning.
		w.err += " (to accept that risk, sign in with keyfob login --insecure-http instead: the login wizard sends no secret over plain http to another machine)"
	}
	i := w.form.index(fe.Field)
	if i < 0 {
		return nil
	}
	label := textOf(fe.Field).label
	switch {
	case w.form.value(fe.Field) != "":
		w.err += "; fix " + label
	case (fe.Field == oauth.FieldAuthURL || fe.Field == oauth.FieldTokenURL) && w.form.index(oauth.FieldIssuer) >= 0:
		w.err += "; fill in " + label + " (or an Issuer)"
	default:
		w.err += "; fill in " + label
	}
	return w.form.focusOn(i)
}

// begin starts a try: a fresh context that esc cancels.
func (w *Model) begin(working string) (context.Context, int) {
	w.abandon()
	ctx, cancel := context.WithCancel(w.c.Ctx)
	w.run.ctx, w.run.cancel = ctx, cancel
	w.working = working
	w.step = stepWorking
	return ctx, w.run.id
}

// discover prepares the account from the issuer's discovery document.
func (w *Model) discover(issuer string) tea.Cmd {
	ctx, id := w.begin("Reading the discovery document of " + common.Host(issuer) + "…")
	logins, req := w.c.Logins, w.request(true)
	return func() tea.Msg {
		p, err := logins.Prepare(ctx, req)
		return discoveredMsg{id: id, p: p, err: err}
	}
}

// onDiscovered fills the empty endpoints from the discovery document and
// goes on; the issuer is dropped, so a later try uses the form as it is.
func (w *Model) onDiscovered(msg discoveredMsg) tea.Cmd {
	if msg.id != w.run.id {
		return nil
	}
	w.step = stepFields
	if msg.err != nil {
		return w.fieldError(msg.err)
	}
	ep := msg.p.Account.Endpoints
	w.form.fill(oauth.FieldAuthURL, ep.AuthURL)
	w.form.fill(oauth.FieldTokenURL, ep.TokenURL)
	w.form.fill(oauth.FieldRevokeURL, ep.RevokeURL)
	w.run.userInfo = ep.UserInfoURL
	if i := w.form.index(oauth.FieldIssuer); i >= 0 {
		w.form.fields[i].input.SetValue("")
	}
	return w.proceed(msg.p)
}

// proceed imports the prepared account, or begins its sign-in.
func (w *Model) proceed(p oauth.Prepared) tea.Cmd {
	if w.purpose == purposeImport {
		return w.importCmd(p)
	}
	return w.beginCmd(p)
}

// importCmd imports the refresh token. The request is not tied to esc
// (see holdOn).
func (w *Model) importCmd(p oauth.Prepared) tea.Cmd {
	e := p.Account.Endpoints
	ctx, id := w.begin("Checking the refresh token with " + common.Host(cmp.Or(e.TokenURL, e.BaseURL)) + "…")
	ctx = context.WithoutCancel(ctx)
	w.run.holdOn = true
	logins := w.c.Logins
	return func() tea.Msg {
		saved, err := logins.Import(ctx, p)
		return doneMsg{id: id, saved: saved, err: err}
	}
}

// beginCmd begins the sign-in. A grant without a browser finishes in the
// same command; a browser sign-in comes back to the wizard, and closes by
// itself if the try is abandoned before it arrives.
func (w *Model) beginCmd(p oauth.Prepared) tea.Cmd {
	working := "Signing in…"
	switch oauth.GrantOf(p.Account) {
	case accounts.GrantCode:
		working = "Preparing the sign-in…"
	case accounts.GrantClientCredentials:
		working = "Getting a token with the client credentials…"
	}
	ctx, id := w.begin(working)
	logins := w.c.Logins
	return func() tea.Msg {
		s, err := logins.Begin(ctx, p)
		if err != nil {
			return doneMsg{id: id, err: err}
		}
		if s.Browser() == nil {
			saved, err := s.Finish(ctx)
			s.Close()
			return doneMsg{id: id, saved: saved, err: err}
		}
		context.AfterFunc(ctx, s.Close)
		return begunMsg{id: id, s: s}
	}
}

// onBegun shows the browser step: the browser opens (or the Browse hook
// signs in), and a loopback sign-in waits for it to come back.
func (w *Model) onBegun(msg begunMsg) tea.Cmd {
	if msg.id != w.run.id {
		go msg.s.Close()
		return nil
	}
	b := msg.s.Browser()
	w.run.signIn = msg.s
	w.run.authURL, w.run.redirect, w.run.loopback = b.AuthURL(), b.RedirectURI(), b.Loopback()
	w.step = stepBrowser
	w.run.helpScroll = 0
	w.paste.SetValue("")
	cmds := []tea.Cmd{w.openBrowser(), w.paste.Focus()}
	if w.run.loopback {
		cmds = append(cmds, w.waitCmd())
	}
	return tea.Batch(cmds...)
}

// waitCmd waits for the browser to come back to the loopback listener.
func (w *Model) waitCmd() tea.Cmd {
	s, id, ctx := w.run.signIn, w.run.id, w.run.ctx
	return func() tea.Msg {
		saved, err := s.Finish(ctx)
		return doneMsg{id: id, saved: saved, err: err, fromWait: true}
	}
}

// openBrowser sends the user to the sign-in page: the real browser, or
// the Browse hook.
func (w *Model) openBrowser() tea.Cmd {
	s := w.run.signIn
	if s == nil {
		return nil
	}
	b, id, ctx, browse, authURL := s.Browser(), w.run.id, w.run.ctx, w.c.Browse, w.run.authURL
	if browse != nil {
		return func() tea.Msg {
			landed, err := browse(ctx, authURL)
			return browsedMsg{id: id, landed: landed, err: err}
		}
	}
	return func() tea.Msg { return browsedMsg{id: id, err: b.OpenBrowser()} }
}

// onBrowsed says when no browser opened, and fills in the address the
// Browse hook landed on for a paste sign-in.
func (w *Model) onBrowsed(msg browsedMsg) tea.Cmd {
	if msg.id != w.run.id || w.step != stepBrowser {
		return nil
	}
	switch {
	case msg.err != nil && w.c.Browse != nil:
		w.note = fmt.Sprintf("the sign-in did not go through (%v): open the address above yourself to see why.", msg.err)
		return nil
	case msg.err != nil:
		w.note = present.Sentence(msg.err.Error()) + "; open the address above yourself (or set $BROWSER to your browser's command and try again)."
		return nil
	}
	if msg.landed != "" && !w.run.loopback && w.paste.Value() == "" {
		w.paste.SetValue(msg.landed)
		w.paste.CursorEnd()
		w.note = "The browser signed in and landed on the address now in the field below: press enter to finish."
	}
	return nil
}

// complete exchanges a pasted redirect address (or code).
func (w *Model) complete(pasted string) tea.Cmd {
	w.err = ""
	w.run.exchanging = true
	s, id, ctx := w.run.signIn, w.run.id, w.run.ctx
	return func() tea.Msg {
		saved, err := s.Complete(ctx, pasted)
		return doneMsg{id: id, saved: saved, err: err}
	}
}

// onDone ends a try: Saved on success; a bad paste keeps the sign-in
// waiting for another; any other failure goes back to the form.
func (w *Model) onDone(msg doneMsg) common.Action {
	if msg.id != w.run.id {
		return nil
	}
	w.run.holdOn = false
	if msg.fromWait && msg.err != nil && w.run.exchanging {
		// The pasted address is being exchanged, which ends the wait: its
		// own result decides.
		return nil
	}
	if msg.err == nil {
		w.abandon() // a late callback of the same sign-in is now stale
		return Saved{Account: msg.saved.Account, Replaced: msg.saved.Replaced, NameNotUsed: msg.saved.NameNotUsed, Imported: w.purpose == purposeImport,
			RegionChange: msg.saved.RegionChange}
	}
	if w.step == stepBrowser && !msg.fromWait && w.run.signIn != nil {
		w.run.exchanging = false
		w.err = msg.err.Error()
		return nil
	}
	w.abandon()
	w.step = stepFields
	w.err = msg.err.Error()
	return nil
}

// cancelAttempt stops the running try and goes back to the form.
func (w *Model) cancelAttempt(note string) tea.Cmd {
	w.abandon()
	w.step = stepFields
	w.err = ""
	w.note = note
	return nil
}

// abandon cancels the running try; its late results are dropped.
// Cancelling ends a loopback wait, which closes the listener; Close runs
// off the Update loop because it may wait briefly for a page being sent.
func (w *Model) abandon() {
	w.run.id++
	w.run.holdOn = false
	if w.run.cancel != nil {
		w.run.cancel()
		w.run.cancel = nil
	}
	w.run.exchanging = false
	if s := w.run.signIn; s != nil {
		w.run.signIn = nil
		go s.Close()
	}
}

// shutdown is abandon for the end of the program: the listener is closed
// before it returns.
func (w *Model) shutdown() {
	s := w.run.signIn
	w.run.signIn = nil
	w.abandon()
	if s != nil {
		s.Close()
	}
}
