package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// wizardMode says whether the wizard signs in or imports a refresh token.
type wizardMode int

const (
	modeLogin wizardMode = iota
	modeImport
)

// wizStep is a page of the wizard.
type wizStep int

const (
	stepKind    wizStep = iota // choose the kind of account
	stepRegion                 // choose the Tesla region
	stepGrant                  // choose how a custom account signs in
	stepFields                 // fill in the form
	stepWorking                // a request is running (spinner)
	stepBrowser                // a browser sign-in is under way
)

// fieldKey names a form field.
type fieldKey int

const (
	fName fieldKey = iota
	fEmail
	fPassword
	fClientID
	fSecret
	fScopes
	fRedirect
	fAudience
	fAuthURL
	fTokenURL
	fRevokeURL
	fBaseURL
	fIssuer
	fRefresh
)

// fieldSpecs describe each field: label, placeholder, help line, masking.
var fieldSpecs = map[fieldKey]struct {
	label, placeholder, help string
	secret                   bool
}{
	fName:      {"Name", "optional — the email's name by default", "What keyfob calls the account; keyfob token NAME uses it.", false},
	fEmail:     {"Email", "the Tesla account's email", "The email of the account.", false},
	fPassword:  {"Password", "", "Sent once to the token endpoint and never stored.", true},
	fClientID:  {"Client ID", "your app's client id", "The client id of your app (developer.tesla.com for Fleet API apps).", false},
	fSecret:    {"Secret", "none", "The client secret; open-source (PKCE) apps have none. Stored in the account file (0600).", true},
	fScopes:    {"Scopes", "space separated", "Scopes to ask for; the server may grant fewer — the detail view shows what it granted.", false},
	fRedirect:  {"Redirect URI", "empty: 127.0.0.1, any free port", "Must match a redirect URI registered for the app. A loopback http URI (or empty) lets keyfob catch the answer itself.", false},
	fAudience:  {"Audience", "Fleet API base URL", "The Fleet API base URL of the account's region.", false},
	fAuthURL:   {"Auth URL", "authorize endpoint", "Where the browser signs in.", false},
	fTokenURL:  {"Token URL", "token endpoint", "Where codes and refresh tokens are exchanged.", false},
	fRevokeURL: {"Revoke URL", "none", "An RFC 7009 revocation endpoint, if the server has one.", false},
	fBaseURL:   {"Owner API", "base URL", "The owner-api host; /oauth/token and /oauth/revoke hang off it.", false},
	fIssuer:    {"Issuer", "optional — fills the URLs", "An OpenID issuer URL: keyfob reads its discovery document to fill the empty endpoints.", false},
	fRefresh:   {"Refresh token", "paste it here", "The refresh token to import. keyfob refreshes it at once, which proves it works and rotates it.", true},
}

// fieldsFor lists the form of a kind (and grant) in a mode.
func fieldsFor(mode wizardMode, k accounts.Kind, grant string) []fieldKey {
	if mode == modeImport {
		switch k {
		case accounts.KindLegacy:
			return []fieldKey{fName, fRefresh, fClientID, fSecret, fBaseURL}
		case accounts.KindCustom:
			return []fieldKey{fName, fRefresh, fIssuer, fTokenURL, fRevokeURL, fClientID, fSecret}
		}
		return []fieldKey{fName, fRefresh, fClientID, fTokenURL}
	}
	switch k {
	case accounts.KindFleet:
		return []fieldKey{fName, fClientID, fSecret, fScopes, fRedirect, fAudience, fAuthURL, fTokenURL}
	case accounts.KindOwner:
		return []fieldKey{fName, fEmail, fScopes, fRedirect, fAuthURL, fTokenURL}
	case accounts.KindPartner:
		return []fieldKey{fName, fClientID, fSecret, fScopes, fAudience, fTokenURL}
	case accounts.KindLegacy:
		return []fieldKey{fName, fEmail, fPassword, fClientID, fSecret, fBaseURL}
	}
	switch grant {
	case accounts.GrantPassword:
		return []fieldKey{fName, fEmail, fPassword, fIssuer, fTokenURL, fRevokeURL, fClientID, fSecret, fScopes}
	case accounts.GrantClientCredentials:
		return []fieldKey{fName, fIssuer, fTokenURL, fRevokeURL, fClientID, fSecret, fScopes, fAudience}
	}
	return []fieldKey{fName, fIssuer, fAuthURL, fTokenURL, fRevokeURL, fClientID, fSecret, fScopes, fRedirect, fAudience}
}

// choice is one line of a chooser page.
type choice struct{ value, desc string }

var kindChoices = map[accounts.Kind]choice{
	accounts.KindFleet:   {"fleet", "Fleet API token — official; you sign in in the browser"},
	accounts.KindOwner:   {"owner", "Owner API token via Tesla SSO — you paste the final address"},
	accounts.KindPartner: {"partner", "Fleet API partner token — your app's client id and secret"},
	accounts.KindLegacy:  {"legacy", "retired owner-api password grant (email and password)"},
	accounts.KindCustom:  {"custom", "any OAuth 2 server, with your own endpoints"},
}

var regionChoices = []choice{
	{"na", "North America and Asia-Pacific"},
	{"eu", "Europe, Middle East and Africa"},
	{"cn", "China — auth.tesla.cn"},
}

var grantChoices = []choice{
	{accounts.GrantCode, "browser sign-in with PKCE"},
	{accounts.GrantPassword, "email and password (resource owner grant)"},
	{accounts.GrantClientCredentials, "client id and secret, no user"},
}

// field is one input of the form.
type field struct {
	key   fieldKey
	input textinput.Model
}

// Messages of the wizard's commands; attempt ties them to the try that
// started them, so the results of an abandoned try are ignored.
type (
	wizDiscoveredMsg struct {
		attempt int
		ep      accounts.Endpoints
		err     error
	}
	wizFlowMsg struct {
		attempt int
		flow    *oauth.CodeFlow
		err     error
	}
	wizBrowsedMsg struct {
		attempt int
		landed  string
		err     error
	}
	wizDoneMsg struct {
		attempt  int
		saved    accounts.Account
		replaced bool
		err      error
		fromWait bool
	}
)

// wizard is the login wizard and, in modeImport, the import form.
type wizard struct {
	outcome
	m     *Model
	mode  wizardMode
	step  wizStep
	kinds []accounts.Kind

	kindIdx, regionIdx, grantIdx int
	kind                         accounts.Kind
	region, grant                string
	base                         accounts.Account // the preset the form starts from

	fields []field
	focus  int

	err     string // what went wrong, and what to do
	note    string // a neutral remark (e.g. a cancelled sign-in)
	working string // what the spinner says

	attempt   int
	actx      context.Context // the running attempt's context; esc cancels it
	cancel    context.CancelFunc
	flow      *oauth.CodeFlow
	authURL   string
	redirect  string
	loopback  bool
	exchanged bool // a pasted address is being exchanged
	// holdOn is set while an import runs: the server rotates the refresh
	// token, so abandoning the request could lose the only live one.
	holdOn bool
	paste  textinput.Model
}

func newWizard(m *Model, mode wizardMode) *wizard {
	w := &wizard{m: m, mode: mode, kinds: accounts.Kinds}
	if mode == modeImport {
		w.kinds = []accounts.Kind{accounts.KindFleet, accounts.KindOwner, accounts.KindLegacy, accounts.KindCustom}
	}
	w.paste = textinput.New()
	w.paste.Prompt = ""
	w.paste.Placeholder = "the address you landed on, or just its code"
	w.restyle()
	return w
}

func (w *wizard) Init() tea.Cmd { return nil }

// Busy reports whether a request or a browser sign-in is running.
func (w *wizard) Busy() bool {
	return w.step == stepWorking || (w.step == stepBrowser && (w.loopback || w.exchanged))
}

// Close abandons whatever is running and closes a loopback listener.
func (w *wizard) Close() {
	w.abandon()
}

// abandon cancels the running attempt; its late results are ignored.
// Cancelling ends a loopback wait, which closes the listener; Close runs
// off the Update loop because it may wait briefly for a page being sent.
func (w *wizard) abandon() {
	w.attempt++
	w.holdOn = false
	if w.cancel != nil {
		w.cancel()
		w.cancel = nil
	}
	w.exchanged = false
	if flow := w.flow; flow != nil {
		w.flow = nil
		go func() { _ = flow.Close() }()
	}
}

// shutdown is abandon for the end of the program: the listener is closed
// before it returns.
func (w *wizard) shutdown() {
	flow := w.flow
	w.flow = nil
	w.abandon()
	if flow != nil {
		_ = flow.Close()
	}
}

func (w *wizard) restyle() {
	st := w.m.st
	for i := range w.fields {
		w.fields[i].input.SetStyles(st.Input)
	}
	w.paste.SetStyles(st.Input)
	w.resize()
}

func (w *wizard) width() int { return w.m.boxWidth(80) }

func (w *wizard) inner() int { return w.width() - w.m.st.Dialog.GetHorizontalFrameSize() }

const labelWidth = 14

func (w *wizard) resize() {
	iw := w.inputWidth()
	for i := range w.fields {
		in := &w.fields[i].input
		in.SetWidth(iw)
		in.SetValue(in.Value()) // recomputes the visible part
	}
	w.paste.SetWidth(max(w.inner()-3, 10))
	w.paste.SetValue(w.paste.Value())
}

func (w *wizard) inputWidth() int { return max(w.inner()-labelWidth-4, 10) }

// title is the wizard's heading for the current step.
func (w *wizard) title() string {
	verb := "New login"
	if w.mode == modeImport {
		verb = "Import a refresh token"
	}
	parts := []string{verb}
	if w.step > stepKind {
		parts = append(parts, string(w.kind))
	}
	if w.region != "" && w.step > stepRegion {
		parts = append(parts, w.region)
	}
	if w.kind == accounts.KindCustom && w.grant != "" && w.step > stepGrant && w.mode == modeLogin {
		parts = append(parts, w.grant)
	}
	t := strings.Join(parts, " · ")
	if n, total := w.stepNumber(); n > 0 {
		t += fmt.Sprintf("  (step %d of %d)", n, total)
	}
	return t
}

// stepNumber numbers the pages the user goes through.
func (w *wizard) stepNumber() (n, total int) {
	total = 3
	if w.step > stepKind && w.kind == accounts.KindCustom && w.mode == modeImport {
		total = 2
	}
	switch w.step {
	case stepKind:
		return 1, total
	case stepRegion, stepGrant:
		return 2, total
	case stepFields:
		return total, total
	}
	return 0, total
}

func (w *wizard) Update(msg tea.Msg) (modal, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		return w, w.key(msg)
	case tea.PasteMsg:
		return w, w.input(msg)
	case wizDiscoveredMsg:
		return w, w.onDiscovered(msg)
	case wizFlowMsg:
		return w, w.onFlow(msg)
	case wizBrowsedMsg:
		return w, w.onBrowsed(msg)
	case wizDoneMsg:
		return w, w.onDone(msg)
	}
	return w, w.input(msg)
}

// input feeds the focused text input.
func (w *wizard) input(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch w.step {
	case stepFields:
		if w.focus < len(w.fields) {
			w.fields[w.focus].input, cmd = w.fields[w.focus].input.Update(msg)
		}
	case stepBrowser:
		if !w.exchanged {
			w.paste, cmd = w.paste.Update(msg)
		}
	}
	return cmd
}

func (w *wizard) key(msg tea.KeyPressMsg) tea.Cmd {
	k := msg.String()
	switch w.step {
	case stepKind, stepRegion, stepGrant:
		return w.chooserKey(k)
	case stepFields:
		switch k {
		case "esc":
			w.err, w.note = "", ""
			w.step = w.prevStep()
			return nil
		case "tab", "down":
			w.focusField(w.focus + 1)
			return nil
		case "shift+tab", "up":
			w.focusField(w.focus - 1)
			return nil
		case "enter":
			return w.submit()
		}
		return w.input(msg)
	case stepWorking:
		if k == "esc" {
			if w.holdOn {
				w.note = "the refresh token is being exchanged for a new one; stopping now could lose it — this takes a few seconds at most"
				return nil
			}
			return w.cancelAttempt("cancelled")
		}
		return nil
	case stepBrowser:
		switch k {
		case "esc":
			return w.cancelAttempt("sign-in cancelled; keyfob stopped listening for the browser")
		case "ctrl+o":
			return w.openBrowser()
		case "ctrl+y":
			w.decide(copyTextMsg{what: "the sign-in address", text: w.authURL})
			return nil
		case "enter":
			if w.exchanged {
				return nil
			}
			pasted := strings.TrimSpace(w.paste.Value())
			if pasted == "" {
				w.err = "paste the address your browser landed on (or just its code) first"
				return nil
			}
			return w.complete(pasted)
		}
		return w.input(msg)
	}
	return nil
}

// chooserKey moves through and picks from a list page.
func (w *wizard) chooserKey(k string) tea.Cmd {
	idx, n := w.choiceIndex()
	switch k {
	case "esc":
		if w.step == stepKind {
			w.decide(closeModalMsg{})
			return nil
		}
		w.step = stepKind
		return nil
	case "up", "k", "shift+tab":
		*idx = (*idx + n - 1) % n
	case "down", "j", "tab":
		*idx = (*idx + 1) % n
	case "enter", "space":
		return w.choose()
	}
	return nil
}

// choiceIndex returns the cursor of the current chooser and its length.
func (w *wizard) choiceIndex() (*int, int) {
	switch w.step {
	case stepRegion:
		return &w.regionIdx, len(regionChoices)
	case stepGrant:
		return &w.grantIdx, len(grantChoices)
	}
	return &w.kindIdx, len(w.kinds)
}

// choose accepts the highlighted choice and moves on.
func (w *wizard) choose() tea.Cmd {
	switch w.step {
	case stepKind:
		w.kind = w.kinds[w.kindIdx]
		w.region, w.grant = "", ""
		switch {
		case w.kind != accounts.KindCustom:
			w.step = stepRegion
			return nil
		case w.mode == modeLogin:
			w.step = stepGrant
			return nil
		}
	case stepRegion:
		w.region = regionChoices[w.regionIdx].value
	case stepGrant:
		w.grant = grantChoices[w.grantIdx].value
	}
	return w.buildForm()
}

// prevStep is the page before the form.
func (w *wizard) prevStep() wizStep {
	switch {
	case w.kind != accounts.KindCustom:
		return stepRegion
	case w.mode == modeLogin:
		return stepGrant
	}
	return stepKind
}

// buildForm fills the form from the preset of the chosen kind and region.
func (w *wizard) buildForm() tea.Cmd {
	base, err := w.m.presets(w.kind, w.region)
	if err != nil {
		w.err = err.Error()
		w.step = stepKind
		return nil
	}
	if w.kind == accounts.KindCustom {
		base.Grant = w.grant
		if base.Grant == "" {
			base.Grant = accounts.GrantCode
		}
	}
	w.base = base
	w.err, w.note = "", ""
	keys := fieldsFor(w.mode, w.kind, w.grant)
	w.fields = make([]field, len(keys))
	for i, k := range keys {
		spec := fieldSpecs[k]
		in := textinput.New()
		in.Prompt = ""
		in.Placeholder = spec.placeholder
		in.CharLimit = 4096
		if spec.secret {
			in.EchoMode = textinput.EchoPassword
			in.EchoCharacter = '•'
		}
		in.SetWidth(w.inputWidth())
		in.SetValue(presetValue(base, k))
		in.CursorStart()
		w.fields[i] = field{key: k, input: in}
	}
	w.restyle()
	w.step = stepFields
	// Start on the first field the preset left empty that the user must
	// provide, else on the name.
	start := 0
	for i, f := range w.fields {
		if f.input.Value() == "" && required(w.mode, w.kind, w.grant, f.key) {
			start = i
			break
		}
	}
	return w.focusField(start)
}

// presetValue is a field's initial value.
func presetValue(a accounts.Account, k fieldKey) string {
	switch k {
	case fName:
		return a.Name
	case fEmail:
		return a.Email
	case fClientID:
		return a.ClientID
	case fSecret:
		return a.ClientSecret
	case fScopes:
		return strings.Join(a.RequestedScopes, " ")
	case fRedirect:
		return a.Endpoints.RedirectURI
	case fAudience:
		return a.Audience
	case fAuthURL:
		return a.Endpoints.AuthURL
	case fTokenURL:
		return a.Endpoints.TokenURL
	case fRevokeURL:
		return a.Endpoints.RevokeURL
	case fBaseURL:
		return a.Endpoints.BaseURL
	}
	return ""
}

// required reports whether the user must fill a field in.
func required(mode wizardMode, k accounts.Kind, grant string, f fieldKey) bool {
	switch f {
	case fClientID, fRefresh:
		return true
	case fEmail, fPassword:
		return k == accounts.KindLegacy || grant == accounts.GrantPassword
	case fSecret:
		return mode == modeLogin && (k == accounts.KindPartner || grant == accounts.GrantClientCredentials)
	}
	return false
}

func (w *wizard) focusField(i int) tea.Cmd {
	if len(w.fields) == 0 {
		return nil
	}
	i = (i + len(w.fields)) % len(w.fields)
	for j := range w.fields {
		w.fields[j].input.Blur()
		w.fields[j].input.CursorStart()
	}
	w.focus = i
	w.fields[i].input.CursorEnd()
	return w.fields[i].input.Focus()
}

// account builds the account and the password-grant credentials from the
// form.
func (w *wizard) account() (accounts.Account, oauth.Credentials, string) {
	a := w.base
	a.RequestedScopes = append([]string(nil), w.base.RequestedScopes...)
	a.Kind = w.kind
	var creds oauth.Credentials
	var issuer string
	for _, f := range w.fields {
		v := f.input.Value()
		if f.key != fPassword {
			v = strings.TrimSpace(v)
		}
		switch f.key {
		case fName:
			a.Name = v
		case fEmail:
			a.Email = v
			creds.Email = v
		case fPassword:
			creds.Password = v
		case fClientID:
			a.ClientID = v
		case fSecret:
			a.ClientSecret = v
		case fScopes:
			a.RequestedScopes = accounts.ParseScopes(v)
		case fRedirect:
			a.Endpoints.RedirectURI = v
		case fAudience:
			a.Audience = v
		case fAuthURL:
			a.Endpoints.AuthURL = v
		case fTokenURL:
			a.Endpoints.TokenURL = v
		case fRevokeURL:
			a.Endpoints.RevokeURL = v
		case fBaseURL:
			a.Endpoints.BaseURL = v
		case fIssuer:
			issuer = v
		case fRefresh:
			a.RefreshToken = strings.Join(strings.Fields(v), "")
		}
	}
	return a, creds, issuer
}

// setField changes a field's value (after discovery).
func (w *wizard) setField(k fieldKey, v string) {
	if i := w.fieldIndex(k); i >= 0 && strings.TrimSpace(w.fields[i].input.Value()) == "" && v != "" {
		w.fields[i].input.SetValue(v)
	}
}

// submit checks the form and starts the sign-in or import.
func (w *wizard) submit() tea.Cmd {
	a, creds, issuer := w.account()
	w.err, w.note = "", ""
	for i, f := range w.fields {
		if required(w.mode, w.kind, w.grant, f.key) && strings.TrimSpace(f.input.Value()) == "" {
			w.err = fmt.Sprintf("%s is required. %s", fieldSpecs[f.key].label, fieldSpecs[f.key].help)
			return w.focusField(i)
		}
	}
	if issuer != "" && ((a.Endpoints.TokenURL == "") || (w.grant == accounts.GrantCode && a.Endpoints.AuthURL == "")) {
		return w.discover(issuer)
	}
	if w.mode == modeImport {
		if err := validateImport(a); err != nil {
			w.err = err.Error()
			return nil
		}
		return w.importCmd(a)
	}
	if err := oauth.Validate(oauth.PurposeLogin, a); err != nil {
		return w.fieldError(err)
	}
	switch {
	case a.Kind == accounts.KindFleet || a.Kind == accounts.KindOwner || (a.Kind == accounts.KindCustom && a.Grant == accounts.GrantCode):
		return w.startFlow(a)
	case a.Kind == accounts.KindPartner || a.Grant == accounts.GrantClientCredentials:
		return w.loginCmd(a, creds, "Getting a token with the client credentials…")
	}
	return w.loginCmd(a, creds, "Signing in…")
}

// formFields maps the fields oauth.Validate names to the form's.
var formFields = map[oauth.Field]fieldKey{
	"client_id":     fClientID,
	"client_secret": fSecret,
	"auth_url":      fAuthURL,
	"token_url":     fTokenURL,
	"revoke_url":    fRevokeURL,
	"base_url":      fBaseURL,
	"redirect_uri":  fRedirect,
	"audience":      fAudience,
}

// fieldError shows a validation error in the form's words: the problem,
// then the field to fill in or fix, which gets the focus.
func (w *wizard) fieldError(err error) tea.Cmd {
	w.err = err.Error()
	var fe *oauth.FieldError
	if !errors.As(err, &fe) {
		return nil
	}
	w.err = fe.Problem
	k, ok := formFields[fe.Field]
	i := w.fieldIndex(k)
	if !ok || i < 0 {
		return nil
	}
	switch {
	case strings.TrimSpace(w.fields[i].input.Value()) != "":
		w.err += "; fix " + fieldSpecs[k].label
	case (k == fAuthURL || k == fTokenURL) && w.fieldIndex(fIssuer) >= 0:
		w.err += "; fill in " + fieldSpecs[k].label + " (or an Issuer)"
	default:
		w.err += "; fill in " + fieldSpecs[k].label
	}
	return w.focusField(i)
}

// fieldIndex is the position of a field in the form, or -1.
func (w *wizard) fieldIndex(k fieldKey) int {
	for i, f := range w.fields {
		if f.key == k {
			return i
		}
	}
	return -1
}

// validateImport checks an import form.
func validateImport(a accounts.Account) error {
	switch {
	case a.Kind == accounts.KindLegacy && a.Endpoints.BaseURL == "":
		return errors.New("the owner-api base URL is needed; fill in Owner API")
	case a.Kind != accounts.KindLegacy && a.Endpoints.TokenURL == "":
		return errors.New("the token URL is needed; fill in Token URL (or an Issuer to discover it)")
	}
	return nil
}

// begin starts an attempt: a fresh context that esc cancels.
func (w *wizard) begin(working string) (context.Context, int) {
	w.abandon()
	ctx, cancel := context.WithCancel(w.m.ctx)
	w.actx, w.cancel = ctx, cancel
	w.working = working
	w.step = stepWorking
	return ctx, w.attempt
}

func (w *wizard) discover(issuer string) tea.Cmd {
	ctx, attempt := w.begin("Reading the discovery document of " + hostOf(issuer) + "…")
	engine := w.m.engine
	return func() tea.Msg {
		ep, err := engine.Discover(ctx, issuer)
		return wizDiscoveredMsg{attempt: attempt, ep: ep, err: err}
	}
}

func (w *wizard) onDiscovered(msg wizDiscoveredMsg) tea.Cmd {
	if msg.attempt != w.attempt {
		return nil
	}
	w.step = stepFields
	if msg.err != nil {
		w.err = msg.err.Error()
		return nil
	}
	w.setField(fAuthURL, msg.ep.AuthURL)
	w.setField(fTokenURL, msg.ep.TokenURL)
	w.setField(fRevokeURL, msg.ep.RevokeURL)
	if w.base.Endpoints.UserInfoURL == "" {
		w.base.Endpoints.UserInfoURL = msg.ep.UserInfoURL
	}
	// Drop the issuer so the next submit goes on with the found URLs.
	if i := w.fieldIndex(fIssuer); i >= 0 {
		w.fields[i].input.SetValue("")
	}
	w.note = "endpoints filled from the discovery document"
	return w.submit()
}

// loginCmd runs a password or client-credentials login, then saves.
func (w *wizard) loginCmd(a accounts.Account, creds oauth.Credentials, working string) tea.Cmd {
	ctx, attempt := w.begin(working)
	engine, mgr := w.m.engine, w.m.mgr
	return func() tea.Msg {
		if err := mgr.CheckName(a); err != nil {
			return wizDoneMsg{attempt: attempt, err: err}
		}
		got, err := engine.Login(ctx, a, creds)
		if err != nil {
			return wizDoneMsg{attempt: attempt, err: err}
		}
		return saveResult(ctx, mgr, got, attempt)
	}
}

// importCmd imports a refresh token through the manager.
func (w *wizard) importCmd(a accounts.Account) tea.Cmd {
	ctx, attempt := w.begin("Checking the refresh token with " + hostOf(cmp.Or(a.Endpoints.TokenURL, a.Endpoints.BaseURL)) + "…")
	// The import's request is not tied to esc (see holdOn).
	ctx = context.WithoutCancel(ctx)
	w.holdOn = true
	mgr := w.m.mgr
	return func() tea.Msg {
		saved, replaced, err := mgr.Import(ctx, a)
		return wizDoneMsg{attempt: attempt, saved: saved, replaced: replaced, err: err}
	}
}

func saveResult(ctx context.Context, mgr *accounts.Manager, a accounts.Account, attempt int) wizDoneMsg {
	saved, replaced, err := mgr.Add(ctx, a)
	return wizDoneMsg{attempt: attempt, saved: saved, replaced: replaced, err: err}
}

// startFlow prepares a browser sign-in (PKCE, state, listener).
func (w *wizard) startFlow(a accounts.Account) tea.Cmd {
	ctx, attempt := w.begin("Preparing the sign-in…")
	engine, mgr := w.m.engine, w.m.mgr
	return func() tea.Msg {
		if err := mgr.CheckName(a); err != nil {
			return wizFlowMsg{attempt: attempt, err: err}
		}
		flow, err := engine.StartCodeFlow(ctx, a)
		return wizFlowMsg{attempt: attempt, flow: flow, err: err}
	}
}

func (w *wizard) onFlow(msg wizFlowMsg) tea.Cmd {
	if msg.attempt != w.attempt {
		if msg.flow != nil {
			go func() { _ = msg.flow.Close() }()
		}
		return nil
	}
	if msg.err != nil {
		w.step = stepFields
		w.err = msg.err.Error()
		return nil
	}
	w.flow = msg.flow
	w.authURL = msg.flow.AuthURL()
	w.redirect = msg.flow.RedirectURI()
	w.loopback = msg.flow.Loopback()
	w.step = stepBrowser
	w.paste.SetValue("")
	cmds := []tea.Cmd{w.openBrowser(), w.paste.Focus()}
	if w.loopback {
		cmds = append(cmds, w.waitCmd())
	}
	return tea.Batch(cmds...)
}

// waitCmd waits for the browser to come back to the loopback listener.
func (w *wizard) waitCmd() tea.Cmd {
	flow, mgr, attempt, ctx := w.flow, w.m.mgr, w.attempt, w.actx
	return func() tea.Msg {
		got, err := flow.Wait(ctx)
		if err != nil {
			return wizDoneMsg{attempt: attempt, err: err, fromWait: true}
		}
		msg := saveResult(ctx, mgr, got, attempt)
		msg.fromWait = true
		return msg
	}
}

// openBrowser sends the user to the sign-in page: the real browser, or
// the Browse hook.
func (w *wizard) openBrowser() tea.Cmd {
	flow, attempt, browse, authURL, ctx := w.flow, w.attempt, w.m.browse, w.authURL, w.actx
	if flow == nil {
		return nil
	}
	if browse != nil {
		return func() tea.Msg {
			landed, err := browse(ctx, authURL)
			return wizBrowsedMsg{attempt: attempt, landed: landed, err: err}
		}
	}
	return func() tea.Msg {
		return wizBrowsedMsg{attempt: attempt, err: flow.OpenBrowser()}
	}
}

func (w *wizard) onBrowsed(msg wizBrowsedMsg) tea.Cmd {
	if msg.attempt != w.attempt || w.step != stepBrowser {
		return nil
	}
	if msg.err != nil {
		w.note = fmt.Sprintf("keyfob could not open a browser (%v): open the address above yourself.", msg.err)
		return nil
	}
	if msg.landed != "" && !w.loopback && w.paste.Value() == "" {
		w.paste.SetValue(msg.landed)
		w.paste.CursorEnd()
		w.note = "The browser signed in and landed on the address now in the field below: press enter to finish."
	}
	return nil
}

// complete exchanges a pasted redirect address (or code).
func (w *wizard) complete(pasted string) tea.Cmd {
	w.err = ""
	w.exchanged = true
	flow, mgr, attempt, ctx := w.flow, w.m.mgr, w.attempt, w.actx
	return func() tea.Msg {
		got, err := flow.Complete(ctx, pasted)
		if err != nil {
			return wizDoneMsg{attempt: attempt, err: err}
		}
		return saveResult(ctx, mgr, got, attempt)
	}
}

func (w *wizard) onDone(msg wizDoneMsg) tea.Cmd {
	if msg.attempt != w.attempt {
		return nil
	}
	w.holdOn = false
	if msg.fromWait && msg.err != nil && w.exchanged {
		// The pasted address is being exchanged, which ends the wait: its
		// own result decides.
		return nil
	}
	if msg.err == nil {
		w.abandon() // a late callback of the same flow is now stale
		w.decide(accountSavedMsg{acct: msg.saved, replaced: msg.replaced, imported: w.mode == modeImport})
		return nil
	}
	if w.step == stepBrowser && !msg.fromWait && w.flow != nil {
		// A bad paste: the flow is still waiting; let the user try again.
		w.exchanged = false
		w.err = msg.err.Error()
		return nil
	}
	w.abandon()
	w.step = stepFields
	w.err = msg.err.Error()
	return nil
}

// cancelAttempt stops the running attempt and goes back to the form.
func (w *wizard) cancelAttempt(note string) tea.Cmd {
	w.abandon()
	w.step = stepFields
	w.err = ""
	w.note = note
	return nil
}

// View renders the current page.
func (w *wizard) View() string {
	st := w.m.st
	inner := w.inner()
	var body, hint string
	switch w.step {
	case stepKind:
		var cs []choice
		for _, k := range w.kinds {
			cs = append(cs, kindChoices[k])
		}
		q := "What kind of account?"
		if w.mode == modeImport {
			q = "What kind of account is the refresh token from?"
		}
		body = w.chooser(q, cs, w.kindIdx, 8)
		hint = "↑/↓ choose • enter next • esc cancel"
	case stepRegion:
		body = w.chooser("Which region is the account in?", regionChoices, w.regionIdx, 5)
		hint = "↑/↓ choose • enter next • esc back"
	case stepGrant:
		body = w.chooser("How does the server sign you in?", grantChoices, w.grantIdx, 19)
		hint = "↑/↓ choose • enter next • esc back"
	case stepFields:
		body = w.form()
		action := "sign in"
		if w.mode == modeImport {
			action = "import"
		}
		hint = "tab/↓ next field • enter " + action + " • esc back"
	case stepWorking:
		body = w.m.spin.View() + " " + st.Info.Render(w.working)
		hint = "esc cancel"
	case stepBrowser:
		body = w.browserPage(0)
		hint = "enter use the pasted address • ctrl+o open browser again • ctrl+y copy address • esc cancel"
	}
	if w.note != "" && w.step != stepBrowser {
		body += "\n\n" + paragraphs(st.Muted, inner, w.note)
	}
	if w.err != "" {
		body += "\n\n" + paragraphs(st.ErrorText, inner, "✗ "+w.err)
	}
	box := renderBox(st, w.width(), w.title(), body, hint)
	if over := lipgloss.Height(box) - w.m.height; over > 0 && w.step == stepBrowser {
		// A short terminal: the address gives up lines (ctrl+y copies it
		// whole), then the explanation shrinks to one line.
		full := w.browserPage(0)
		box = renderBox(st, w.width(), w.title(), strings.Replace(body, full, w.browserPage(over), 1), hint)
		if over := lipgloss.Height(box) - w.m.height; over > 0 {
			box = renderBox(st, w.width(), w.title(), strings.Replace(body, full, w.browserPage(-1), 1), hint)
		}
	}
	return box
}

func (w *wizard) chooser(question string, cs []choice, cur, valueW int) string {
	st := w.m.st
	inner := w.inner()
	lines := []string{st.Text.Render(question), ""}
	for i, c := range cs {
		marker, vs, ds := "  ", st.Choice, st.Muted
		if i == cur {
			marker, vs, ds = "› ", st.ChoiceActive, st.Text
		}
		line := st.Marker.Render(marker) + vs.Render(fit(c.value, valueW)) + " " +
			ds.Render(clip(c.desc, max(inner-valueW-3, 5)))
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func (w *wizard) form() string {
	st := w.m.st
	var lines []string
	for i, f := range w.fields {
		spec := fieldSpecs[f.key]
		label := spec.label
		if required(w.mode, w.kind, w.grant, f.key) {
			label += "*"
		}
		marker, ls := "  ", st.Label
		if i == w.focus {
			marker, ls = "› ", st.LabelFocused
		}
		lines = append(lines, st.Marker.Render(marker)+ls.Render(fit(label, labelWidth))+" "+f.input.View())
	}
	if w.focus < len(w.fields) {
		lines = append(lines, "", paragraphs(st.Hint, w.inner(), fieldSpecs[w.fields[w.focus].key].help))
	}
	return strings.Join(lines, "\n")
}

// browserPage renders the browser step; the address loses cut lines when
// the screen is too short for all of it, and with cut < 0 everything is as
// short as it gets.
func (w *wizard) browserPage(cut int) string {
	tight := cut < 0
	if tight {
		cut = 1 << 10
	}
	st := w.m.st
	inner := w.inner()
	var parts []string
	if w.exchanged {
		parts = append(parts, w.m.spin.View()+" "+st.Info.Render("Exchanging the code for tokens…"))
	} else if w.loopback {
		parts = append(parts, w.m.spin.View()+" "+st.Info.Render("Waiting for the browser to come back to "+w.redirect))
	} else if tight {
		parts = append(parts, st.Text.Render(clip("Sign in, then paste the "+w.redirect+"… address you land on.", inner)))
	} else {
		parts = append(parts, paragraphs(st.Text, inner,
			"Sign in in the browser. The server then sends it to "+w.redirect+"…, which keyfob cannot receive: copy that final address (from the address bar, or the network panel of the browser's developer tools) and paste it below."))
	}
	opened := "keyfob opened your browser; if it did not, open this address:"
	if w.m.browse != nil {
		opened = "keyfob is signing in to the sandbox for you; the address is:"
	}
	addr := strings.Split(wrapLines(w.authURL, inner), "\n")
	if cut > 0 {
		keep := max(len(addr)-cut, 1)
		if keep < len(addr) {
			addr = addr[:keep]
			addr[keep-1] = clip(addr[keep-1]+"…", inner)
		}
	}
	parts = append(parts, paragraphs(st.Muted, inner, opened)+"\n"+st.Link.Render(strings.Join(addr, "\n")))
	if w.note != "" {
		parts = append(parts, paragraphs(st.Warning, inner, w.note))
	}
	label := "Or paste the address you landed on:"
	if !w.loopback {
		label = "Paste the address you landed on:"
	}
	parts = append(parts, st.Text.Render(label)+"\n"+st.LabelFocused.Render("› ")+w.paste.View())
	return strings.Join(parts, "\n\n")
}
