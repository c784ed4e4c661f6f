package dialog

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/edit"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// SaveEdit applies the changed fields to the account ID (edit.Apply, with
// presets and the consent given), keeping its tokens. The dialog stays
// open until the answer.
type SaveEdit struct {
	ID      string
	Changes edit.Changes
	Presets edit.Presets
	Consent edit.Consent
}

// editField is one input of the edit form.
type editField struct {
	field oauth.Field
	old   string
	input textinput.Model
}

// Edit changes an account's endpoints, redirect URI, region, audience or
// name, prefilled with its values. It decides SaveEdit, which the root
// applies with the same rules as `keyfob edit` (oauth/edit): only the
// fields the user changed count as given, so a new region moves the
// others. A refused change keeps the dialog open, focused on the field at
// fault.
//
// A change that takes the user's consent (a Tesla account's endpoint
// moving off Tesla's hosts, plain http to a new host on another machine:
// see edit.ConsentError) brings a confirm step naming the hosts; y saves
// with that consent, n or esc goes back to the form.
type Edit struct {
	c       *common.Common
	keys    EditKeyMap
	id      string
	name    string
	fields  []editField
	focus   int
	err     string
	saving  bool
	presets edit.Presets
	consent edit.Consent
	confirm *Confirm           // the confirm step, while it is open
	asked   *edit.ConsentError // what it asks
}

// The confirm step's decisions.
type (
	consentGiven  struct{ c edit.Consent }
	consentDenied struct{}
)

const (
	editWidth      = 76
	editLabelWidth = 18
)

// NewEdit opens the edit form of a, with the command that focuses its
// first input. presets give the defaults a new region moves to (nil:
// Tesla's).
func NewEdit(c *common.Common, a accounts.Account, presets edit.Presets) (*Edit, tea.Cmd) {
	d := &Edit{c: c, keys: DefaultEditKeyMap(), id: a.ID, name: a.Name, presets: presets}
	for _, f := range edit.Fields {
		if !edit.Applies(a, f) {
			continue
		}
		in := textinput.New()
		in.Prompt = ""
		in.CharLimit = 2048
		// Shown cleaned: the store is the user's file. A value that needed
		// cleaning counts as changed only if the user changes it.
		v := present.OneLine(oauth.Value(a, f))
		in.SetValue(v)
		in.CursorEnd()
		d.fields = append(d.fields, editField{field: f, old: v, input: in})
	}
	d.SetSize(c.Width, c.Height)
	return d, d.fields[0].input.Focus()
}

// SetSize implements Sizer.
func (d *Edit) SetSize(int, int) {
	w := d.c.BoxWidth(editWidth) - d.c.Styles.Dialog.GetHorizontalFrameSize() - editLabelWidth - 4
	for i := range d.fields {
		common.SizeInput(d.c.Styles, &d.fields[i].input, max(w, 10), i == d.focus)
	}
}

// Busy implements Worker.
func (d *Edit) Busy() bool { return d.saving }

// Update implements Dialog.
func (d *Edit) Update(msg tea.Msg) (common.Action, tea.Cmd) {
	switch msg := msg.(type) {
	case Refused:
		d.saving = false
		var ce *edit.ConsentError
		if errors.As(msg.Err, &ce) {
			d.confirm, d.asked = newConsentStep(d.c, ce), ce
			return nil, nil
		}
		return nil, d.refused(msg.Err)
	case tea.KeyPressMsg:
		if d.saving {
			return nil, nil
		}
		if d.confirm != nil {
			return d.decide(msg)
		}
		switch {
		case key.Matches(msg, d.keys.Cancel):
			return Close{}, nil
		case key.Matches(msg, d.keys.Save):
			return d.save()
		case key.Matches(msg, d.keys.Next):
			return nil, d.move(1)
		case key.Matches(msg, d.keys.Prev):
			return nil, d.move(-1)
		}
	}
	var cmd tea.Cmd
	f := &d.fields[d.focus]
	f.input, cmd = f.input.Update(msg)
	return nil, cmd
}

// decide passes a key to the confirm step and acts on its decision.
func (d *Edit) decide(msg tea.KeyPressMsg) (common.Action, tea.Cmd) {
	act, cmd := d.confirm.Update(msg)
	switch act := act.(type) {
	case consentGiven:
		d.confirm = nil
		d.consent.PlainHTTP = d.consent.PlainHTTP || act.c.PlainHTTP
		d.consent.LeaveTesla = d.consent.LeaveTesla || act.c.LeaveTesla
		return d.save()
	case consentDenied, Close:
		d.confirm = nil
		d.err = "not saved: change the address, or save again and accept the new host"
		return nil, d.focusField(d.asked.Field())
	}
	return nil, cmd
}

// newConsentStep asks for the consent ce lacks, naming each host and what
// it would get.
func newConsentStep(c *common.Common, ce *edit.ConsentError) *Confirm {
	var paras []string
	given := edit.Consent{PlainHTTP: len(ce.PlainHTTP) > 0, LeaveTesla: len(ce.OffTesla) > 0}
	for _, part := range strings.Split(strings.TrimPrefix(ce.Error(), ce.Account+": "), "; ") {
		paras = append(paras, present.OneLine(strings.ToUpper(part[:1])+part[1:]+"."))
	}
	paras = append(paras, "Make this change only if you trust that host with this account.")
	return NewConfirm(c, 72, "Move "+present.OneLine(ce.Account)+" to another host?", paras, "", 1,
		button("y", "make the change", true, consentGiven{c: given}),
		button("n", "back to the form", false, consentDenied{}))
}

// move puts the focus on the next (or previous) field, round the end.
func (d *Edit) move(by int) tea.Cmd {
	return d.focusOn((d.focus + by + len(d.fields)) % len(d.fields))
}

func (d *Edit) focusOn(i int) tea.Cmd {
	d.fields[d.focus].input.Blur()
	d.fields[d.focus].input.CursorStart()
	d.focus = i
	d.fields[i].input.CursorEnd()
	return d.fields[i].input.Focus()
}

// changes are the fields whose value the user changed.
func (d *Edit) changes() edit.Changes {
	ch := edit.Changes{}
	for _, f := range d.fields {
		if v := strings.TrimSpace(f.input.Value()); v != f.old {
			ch[f.field] = v
		}
	}
	return ch
}

// save decides to save the changed fields; with none it just closes.
func (d *Edit) save() (common.Action, tea.Cmd) {
	ch := d.changes()
	if len(ch) == 0 {
		return Close{}, nil
	}
	d.err, d.saving = "", true
	return SaveEdit{ID: d.id, Changes: ch, Presets: d.presets, Consent: d.consent}, nil
}

// refused shows why the edit was refused and focuses the field at fault.
func (d *Edit) refused(err error) tea.Cmd {
	d.err = err.Error() + "; nothing was changed"
	var fe *oauth.FieldError
	if errors.As(err, &fe) {
		return d.focusField(fe.Field)
	}
	if errors.Is(err, accounts.ErrNameTaken) || errors.Is(err, accounts.ErrInvalidName) {
		return d.focusOn(0)
	}
	return nil
}

// focusField focuses the input of f, if the form has one.
func (d *Edit) focusField(f oauth.Field) tea.Cmd {
	for i, ef := range d.fields {
		if ef.field == f {
			return d.focusOn(i)
		}
	}
	return nil
}

// View implements Dialog.
func (d *Edit) View() string {
	if d.confirm != nil {
		return d.confirm.View()
	}
	st := d.c.Styles
	w := d.c.BoxWidth(editWidth)
	inner := w - st.Dialog.GetHorizontalFrameSize()
	lines := make([]string, 0, len(d.fields)+4)
	for i, f := range d.fields {
		marker, ls := "  ", st.Label
		if i == d.focus {
			marker, ls = "› ", st.LabelFocused
		}
		lines = append(lines, st.Marker.Render(marker)+ls.Render(common.Fit(present.FieldLabel(f.field), editLabelWidth))+" "+f.input.View())
	}
	note := "The tokens are kept. A new region moves the region's endpoints and audience, except fields you change too."
	lines = append(lines, "", common.Paragraphs(st.Hint, inner, note))
	if d.saving {
		lines = append(lines, "", d.c.Frame+" "+st.Info.Render("saving…"))
	}
	if d.err != "" {
		lines = append(lines, "", common.Paragraphs(st.ErrorText, inner, "✗ "+present.OneLine(d.err)))
	}
	title := fmt.Sprintf("Edit %s", present.OneLine(d.name))
	return common.Box(st, w, title, strings.Join(lines, "\n"), d.keys.ShortHelp()...)
}

// EditKeyMap holds the keys of the edit form; every other key edits the
// focused field.
type EditKeyMap struct {
	Next, Prev key.Binding
	Save       key.Binding
	Cancel     key.Binding
}

// DefaultEditKeyMap returns the edit form's default keys.
func DefaultEditKeyMap() EditKeyMap {
	return EditKeyMap{
		Next:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab/↓", "next field")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab/↑", "previous")),
		Save:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "save")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// ShortHelp implements help.KeyMap.
func (k EditKeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Next, k.Prev, k.Save, k.Cancel} }

// FullHelp implements help.KeyMap.
func (k EditKeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }
