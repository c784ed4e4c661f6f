package wizard

import (
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/present"
)

// fieldText is how the form presents a field: its label
// (present.FieldLabel), the placeholder of an empty input and the help
// line under the form (present.HintOf, which the command line's questions
// share).
type fieldText struct{ label, placeholder, help string }

// textOf is the wording of field f.
func textOf(f oauth.Field) fieldText { return kindText("", f) }

// kindText is the wording of field f in a form of kind k.
func kindText(k accounts.Kind, f oauth.Field) fieldText {
	h := present.HintOf(k, f)
	return fieldText{label: present.FieldLabel(f), placeholder: h.Placeholder, help: h.Help}
}

// choice is one line of a chooser page.
type choice struct{ value, desc string }

// importKinds are the kinds whose tokens can be imported: partner tokens
// come with no refresh token.
var importKinds = []accounts.Kind{accounts.KindFleet, accounts.KindOwner, accounts.KindLegacy, accounts.KindCustom}

var (
	regions = []string{"na", "eu", "cn"}
	grants  = []string{accounts.GrantCode, accounts.GrantPassword, accounts.GrantClientCredentials}
)

// field is one input of the form and its row of the requirements table.
type field struct {
	req   oauth.Requirement
	input textinput.Model
}

// form is the fields the requirements table shows for a kind and grant,
// in its order, and the one with the focus.
type form struct {
	fields []field
	focus  int
}

// newForm builds the form of the shown (not hidden) requirements, each
// input width cells wide and holding the preset's value.
func newForm(reqs []oauth.Requirement, preset accounts.Account, width int) form {
	var f form
	for _, r := range reqs {
		if r.Hidden {
			continue
		}
		t := kindText(preset.Kind, r.Field)
		in := textinput.New()
		in.Prompt = ""
		in.Placeholder = t.placeholder
		in.CharLimit = 4096
		if r.Field.Secret() {
			in.EchoMode = textinput.EchoPassword
			in.EchoCharacter = '•'
		}
		in.SetWidth(width)
		in.SetValue(oauth.Value(preset, r.Field))
		in.CursorStart()
		f.fields = append(f.fields, field{req: r, input: in})
	}
	return f
}

// index is the position of field f in the form, or -1.
func (f *form) index(fd oauth.Field) int {
	for i, x := range f.fields {
		if x.req.Field == fd {
			return i
		}
	}
	return -1
}

// value is the trimmed value of field fd, "" when the form lacks it.
func (f *form) value(fd oauth.Field) string {
	if i := f.index(fd); i >= 0 {
		return strings.TrimSpace(f.fields[i].input.Value())
	}
	return ""
}

// fill sets field fd to v when it is in the form and empty.
func (f *form) fill(fd oauth.Field, v string) {
	if i := f.index(fd); i >= 0 && strings.TrimSpace(f.fields[i].input.Value()) == "" && v != "" {
		f.fields[i].input.SetValue(v)
	}
}

// start is where the focus starts: the first required field the preset
// left empty, else the first field.
func (f *form) start() int {
	for i, x := range f.fields {
		if x.req.Need == oauth.NeedRequired && x.input.Value() == "" {
			return i
		}
	}
	return 0
}

// missing is the first required field left empty, or -1.
func (f *form) missing() int {
	for i, x := range f.fields {
		if x.req.Need == oauth.NeedRequired && strings.TrimSpace(x.input.Value()) == "" {
			return i
		}
	}
	return -1
}

// needsDiscovery reports whether a field that an issuer's discovery
// document fills is empty.
func (f *form) needsDiscovery() bool {
	for _, x := range f.fields {
		if x.req.Need == oauth.NeedDiscovered && strings.TrimSpace(x.input.Value()) == "" {
			return true
		}
	}
	return false
}

// inputs are the form's values by field, as oauth.Logins takes them.
func (f *form) inputs() oauth.Inputs {
	in := make(oauth.Inputs, len(f.fields))
	for _, x := range f.fields {
		in[x.req.Field] = x.input.Value()
	}
	return in
}

// focusOn moves the focus to field i (wrapping around).
func (f *form) focusOn(i int) tea.Cmd {
	if len(f.fields) == 0 {
		return nil
	}
	i = (i + len(f.fields)) % len(f.fields)
	for j := range f.fields {
		f.fields[j].input.Blur()
		f.fields[j].input.CursorStart()
	}
	f.focus = i
	f.fields[i].input.CursorEnd()
	return f.fields[i].input.Focus()
}

// update feeds the focused input.
func (f *form) update(msg tea.Msg) tea.Cmd {
	if f.focus >= len(f.fields) {
		return nil
	}
	var cmd tea.Cmd
	f.fields[f.focus].input, cmd = f.fields[f.focus].input.Update(msg)
	return cmd
}
