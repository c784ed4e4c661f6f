package dialog

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// Rename edits an account's name: it decides SaveName, and a name the
// manager refuses (taken, invalid) keeps it open with the reason.
type Rename struct {
	c     *common.Common
	keys  RenameKeyMap
	id    string
	old   string // the name as shown, cleaned
	input textinput.Model
	err   string
}

const renameWidth = 50

// NewRename opens the rename dialog of a, with the command that focuses
// its input.
func NewRename(c *common.Common, a accounts.Account) (*Rename, tea.Cmd) {
	// Shown cleaned, as the edit form shows it: the store is the user's
	// file. A name that needed cleaning is renamed only if the user
	// changes it.
	name := present.OneLine(a.Name)
	in := textinput.New()
	in.Prompt = ""
	in.CharLimit = 64
	in.SetValue(name)
	in.CursorEnd()
	d := &Rename{c: c, keys: DefaultRenameKeyMap(), id: a.ID, old: name, input: in}
	d.SetSize(c.Width, c.Height)
	return d, d.input.Focus()
}

// SetSize implements Sizer.
func (d *Rename) SetSize(int, int) {
	common.SizeInput(d.c.Styles, &d.input, d.c.BoxWidth(renameWidth)-d.c.Styles.Dialog.GetHorizontalFrameSize()-3, true)
}

// Update implements Dialog.
func (d *Rename) Update(msg tea.Msg) (common.Action, tea.Cmd) {
	switch msg := msg.(type) {
	case Refused:
		d.err = msg.Err.Error()
		return nil, nil
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, d.keys.Cancel):
			return Close{}, nil
		case key.Matches(msg, d.keys.Save):
			return d.save()
		}
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(msg)
	return nil, cmd
}

// save checks the name and decides to save it.
func (d *Rename) save() (common.Action, tea.Cmd) {
	name := strings.TrimSpace(d.input.Value())
	switch {
	case name == "":
		d.err = "a name cannot be empty; type one or press " + d.keys.Cancel.Help().Key
		return nil, nil
	case name == d.old:
		return Close{}, nil
	}
	d.err = ""
	return SaveName{ID: d.id, Old: d.old, Name: name}, nil
}

// View implements Dialog.
func (d *Rename) View() string {
	st := d.c.Styles
	w := d.c.BoxWidth(renameWidth)
	inner := w - st.Dialog.GetHorizontalFrameSize()
	body := st.LabelFocused.Render("› ") + d.input.View()
	if d.err != "" {
		body += "\n\n" + common.Paragraphs(st.ErrorText, inner, d.err)
	}
	return common.Box(st, w, "Rename "+d.old, body, d.keys.ShortHelp()...)
}
