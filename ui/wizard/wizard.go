// Package wizard is the login wizard and the import form of keyfob's
// terminal interface: choose a kind (and a region or grant), fill in the
// form the requirements table gives for it, then sign in through
// oauth.Logins — in the browser, with a pasted address, or with a grant
// that needs no browser — or import a refresh token.
//
// The package is split by concern: schema.go builds the form from
// oauth.Requirements, steps.go is the step machine (keys and moves between
// pages), attempt.go the life of one sign-in or import, view.go the
// rendering, keys.go the key map of every step; guide.go and guide_view.go
// are the guided set-up of a Fleet API app of the user's own (the kind
// chooser's "new app"), which ends in the wizard's own fleet sign-in.
package wizard

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/common"
)

// Purpose says whether the wizard signs in or imports a refresh token.
type Purpose = oauth.Purpose

// The purposes.
const (
	purposeLogin  = oauth.PurposeLogin
	purposeImport = oauth.PurposeImport
)

// Saved is the wizard's decision once an account is saved: the root
// closes it and selects the account.
type Saved struct {
	Account  accounts.Account
	Replaced bool // an earlier login of the same user and client was replaced
	Imported bool
	// NameNotUsed is the name the form asked for when the account already
	// existed under another, which it kept.
	NameNotUsed string
	// RegionChange is how the tokens corrected the region the form chose
	// (or why keyfob did not follow them); zero when they agreed.
	RegionChange oauth.RegionChange
}

// step is a page of the wizard.
type step int

const (
	stepKind    step = iota // choose the kind of account
	stepRegion              // choose the Tesla region
	stepGrant               // choose how a custom account signs in
	stepFields              // fill in the form
	stepWorking             // a request is running (spinner)
	stepBrowser             // a browser sign-in is under way
	stepGuide               // the guided set-up of a Fleet API app (guide.go)
)

// Model is the login wizard or, with oauth.PurposeImport, the import form.
// Create it with New.
type Model struct {
	c       *common.Common
	purpose Purpose
	keyMap  KeyMap
	step    step
	kinds   []accounts.Kind

	kindIdx, regionIdx, grantIdx int
	kind                         accounts.Kind
	region, grant                string

	form  form
	paste textinput.Model // the browser step's field for the landed address

	err     string // what went wrong, and what to do
	note    string // a neutral remark (e.g. a cancelled sign-in)
	working string // what the spinner says

	run attempt
	// remembered is the redirect URI keyfob filled in from the last
	// sign-in of the form's client id ("" when none).
	remembered string
	// guide is the guided set-up of a Fleet API app, when chosen.
	guide *guide
}

// New opens the wizard for a login (oauth.PurposeLogin) or an import.
func New(c *common.Common, p Purpose) *Model {
	w := &Model{c: c, purpose: p, keyMap: DefaultKeyMap(), kinds: accounts.Kinds}
	if p == purposeImport {
		w.kinds = importKinds
	} else {
		w.kinds = append(append([]accounts.Kind(nil), accounts.Kinds...), guideKind)
	}
	w.paste = textinput.New()
	w.paste.Prompt = ""
	w.paste.Placeholder = "the address you landed on, or just its code"
	w.SetSize(c.Width, c.Height)
	return w
}

// Busy reports whether a request or a browser sign-in is running, which
// the spinner shows.
func (w *Model) Busy() bool {
	return w.step == stepWorking || (w.step == stepBrowser && (w.run.loopback || w.run.exchanging)) ||
		(w.step == stepGuide && w.guide != nil && w.guide.busy)
}

// Close abandons whatever is running; a loopback listener is closed before
// it returns.
func (w *Model) Close() { w.shutdown() }

// width is the width of the box; inner is what is inside its border.
func (w *Model) width() int { return w.c.BoxWidth(80) }
func (w *Model) inner() int { return w.width() - w.c.Styles.Dialog.GetHorizontalFrameSize() }

const labelWidth = 14

func (w *Model) inputWidth() int { return max(w.inner()-labelWidth-4, 10) }

// SetSize lays the inputs out for the screen and the current styles.
func (w *Model) SetSize(int, int) {
	st, iw := w.c.Styles, w.inputWidth()
	for i := range w.form.fields {
		common.SizeInput(st, &w.form.fields[i].input, iw, i == w.form.focus)
	}
	if w.guide != nil {
		for i := range w.guide.form.fields {
			common.SizeInput(st, &w.guide.form.fields[i].input, iw, i == w.guide.form.focus)
		}
	}
	common.SizeInput(st, &w.paste, max(w.inner()-3, 10), true)
}

// Update handles a key, a paste, or the result of the wizard's own
// commands; it returns Saved once an account is saved, dialog.Close when
// the user leaves, dialog.Copy to copy the sign-in address.
func (w *Model) Update(msg tea.Msg) (common.Action, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		return w.key(msg)
	case discoveredMsg:
		return nil, w.onDiscovered(msg)
	case begunMsg:
		return nil, w.onBegun(msg)
	case browsedMsg:
		return nil, w.onBrowsed(msg)
	case doneMsg:
		act := w.onDone(msg)
		if s, ok := act.(Saved); ok && w.guide != nil && w.guide.signingIn {
			return nil, w.guideSignedIn(s)
		}
		return act, nil
	case guideLoadedMsg:
		return nil, w.onGuideLoaded(msg)
	case guideStepMsg:
		return w.onGuideStep(msg)
	}
	return nil, w.input(msg)
}

// input feeds the focused text input.
func (w *Model) input(msg tea.Msg) tea.Cmd {
	switch w.step {
	case stepFields:
		return w.form.update(msg)
	case stepGuide:
		if w.guide != nil {
			return w.guide.form.update(msg)
		}
	case stepBrowser:
		if !w.run.exchanging {
			var cmd tea.Cmd
			w.paste, cmd = w.paste.Update(msg)
			return cmd
		}
	}
	return nil
}

// title is the wizard's heading for the current step.
func (w *Model) title() string {
	verb := "New login"
	if w.purpose == purposeImport {
		verb = "Import a refresh token"
	}
	parts := []string{verb}
	if w.guide != nil && w.step == stepGuide {
		return w.guideTitle()
	}
	if w.step > stepKind {
		parts = append(parts, string(w.kind))
	}
	if w.region != "" && w.step > stepRegion {
		parts = append(parts, w.region)
	}
	if w.kind == accounts.KindCustom && w.grant != "" && w.step > stepGrant && w.purpose == purposeLogin {
		parts = append(parts, w.grant)
	}
	t := strings.Join(parts, " · ")
	if n, total := w.stepNumber(); n > 0 {
		t += fmt.Sprintf("  (step %d of %d)", n, total)
	}
	return t
}

// stepNumber numbers the pages the user goes through.
func (w *Model) stepNumber() (n, total int) {
	total = 3
	if w.step > stepKind && w.kind == accounts.KindCustom && w.purpose == purposeImport {
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

// ShortHelp is the current step's keys, as its hint line shows them.
func (w *Model) ShortHelp() []key.Binding { return w.stepKeys() }
