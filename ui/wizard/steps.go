package wizard

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/dialog"
)

// key handles a key on the current page.
func (w *Model) key(msg tea.KeyPressMsg) (common.Action, tea.Cmd) {
	k := w.keys()
	switch w.step {
	case stepKind, stepRegion, stepGrant:
		return w.chooserKey(msg, k)
	case stepFields:
		return nil, w.formKey(msg, k)
	case stepWorking:
		if key.Matches(msg, k.Cancel) {
			return nil, w.cancelWorking()
		}
		return nil, nil
	case stepGuide:
		return w.guideKey(msg)
	}
	return w.browserKey(msg, k)
}

// chooserKey moves through and picks from a list page.
func (w *Model) chooserKey(msg tea.KeyPressMsg, k KeyMap) (common.Action, tea.Cmd) {
	idx, n := w.choiceIndex()
	switch {
	case key.Matches(msg, k.Back):
		if w.step == stepKind {
			return dialog.Close{}, nil
		}
		w.step = stepKind
	case key.Matches(msg, k.Prev):
		*idx = (*idx + n - 1) % n
	case key.Matches(msg, k.Next):
		*idx = (*idx + 1) % n
	case key.Matches(msg, k.Choose):
		return nil, w.choose()
	}
	return nil, nil
}

// formKey moves between the fields, submits the form, or types.
func (w *Model) formKey(msg tea.KeyPressMsg, k KeyMap) tea.Cmd {
	switch {
	case key.Matches(msg, k.FormBack):
		w.err, w.note = "", ""
		w.step = w.prevStep()
		if w.guide != nil {
			// The guide's sign-in: back to its page.
			w.guide.signingIn, w.step, w.kind = false, stepGuide, guideKind
		}
		return nil
	case key.Matches(msg, k.NextField):
		w.fillRedirect()
		return w.form.focusOn(w.form.focus + 1)
	case key.Matches(msg, k.PrevField):
		w.fillRedirect()
		return w.form.focusOn(w.form.focus - 1)
	case key.Matches(msg, k.Submit):
		return w.submit()
	}
	return w.input(msg)
}

// cancelWorking stops a running request, except an import: the server
// rotates the refresh token, so abandoning the request could lose the only
// live one.
func (w *Model) cancelWorking() tea.Cmd {
	if w.run.holdOn {
		w.note = "the refresh token is being exchanged for a new one; stopping now could lose it — this takes a few seconds at most"
		return nil
	}
	return w.cancelAttempt("cancelled")
}

// browserKey handles the browser step: use a pasted address, open the
// browser again, copy the address, cancel; other keys edit the paste.
func (w *Model) browserKey(msg tea.KeyPressMsg, k KeyMap) (common.Action, tea.Cmd) {
	switch {
	case key.Matches(msg, k.Cancel):
		return nil, w.cancelAttempt("sign-in cancelled; keyfob stopped listening for the browser")
	case key.Matches(msg, k.OpenBrowser):
		return nil, w.openBrowser()
	case key.Matches(msg, k.CopyAddress):
		return dialog.Copy{What: "the sign-in address", Text: w.run.authURL}, nil
	case key.Matches(msg, k.HelpDown):
		w.scrollHelp(max(w.run.helpWindow-1, 1))
		return nil, nil
	case key.Matches(msg, k.HelpUp):
		w.scrollHelp(-max(w.run.helpWindow-1, 1))
		return nil, nil
	case key.Matches(msg, k.UsePaste):
		pasted := strings.TrimSpace(w.paste.Value())
		if pasted == "" {
			w.err = "paste the address your browser landed on (or just its code) first"
			return nil, nil
		}
		return nil, w.complete(pasted)
	}
	return nil, w.input(msg)
}

// choiceIndex returns the cursor of the current chooser and its length.
func (w *Model) choiceIndex() (*int, int) {
	switch w.step {
	case stepRegion:
		return &w.regionIdx, len(regions)
	case stepGrant:
		return &w.grantIdx, len(grants)
	}
	return &w.kindIdx, len(w.kinds)
}

// choose accepts the highlighted choice and moves on.
func (w *Model) choose() tea.Cmd {
	switch w.step {
	case stepKind:
		w.kind = w.kinds[w.kindIdx]
		w.region, w.grant = "", ""
		switch {
		case w.kind != accounts.KindCustom:
			w.step = stepRegion
			return nil
		case w.purpose == purposeLogin:
			w.step = stepGrant
			return nil
		}
	case stepRegion:
		w.region = regions[w.regionIdx]
		if w.kind == guideKind {
			return w.startGuide()
		}
	case stepGrant:
		w.grant = grants[w.grantIdx]
	}
	return w.buildForm()
}

// prevStep is the page before the form.
func (w *Model) prevStep() step {
	switch {
	case w.kind != accounts.KindCustom:
		return stepRegion
	case w.purpose == purposeLogin:
		return stepGrant
	}
	return stepKind
}

// buildForm fills the form the requirements table gives for the chosen
// kind and grant from the preset of the kind and region.
func (w *Model) buildForm() tea.Cmd {
	preset, err := w.c.Logins.Preset(w.kind, w.region)
	if err != nil {
		w.err = err.Error()
		w.step = stepKind
		return nil
	}
	w.err, w.note = "", ""
	w.run.userInfo = ""
	w.form = newForm(oauth.Requirements(w.purpose, w.kind, w.grant), preset, w.inputWidth())
	w.remembered = ""
	w.fillRedirect()
	w.SetSize(w.c.Width, w.c.Height)
	w.step = stepFields
	return w.form.focusOn(w.form.start())
}
