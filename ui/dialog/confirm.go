package dialog

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// Button is one choice of a Confirm dialog. Its binding's help is its
// label ("y revoke"); its keys choose it at once (the focused button is
// chosen with enter too).
type Button struct {
	Key    key.Binding
	Danger bool
	Action common.Action
}

// button builds a Button chosen by k (none: only by enter when focused),
// labelled with the key and what it does.
func button(k, label string, danger bool, a common.Action) Button {
	b := key.NewBinding(key.WithKeys(k), key.WithHelp(k, label))
	if k == "enter" {
		b = key.NewBinding(key.WithHelp(k, label))
	}
	return Button{Key: b, Danger: danger, Action: a}
}

// Confirm asks a question with a few buttons, or, with one button, tells
// something and waits to be closed.
type Confirm struct {
	c       *common.Common
	keys    ConfirmKeyMap
	title   string
	paras   []string
	link    string // an address shown below the text, e.g. a consent page
	buttons []Button
	focus   int
	width   int // the ideal width of the box
}

// NewConfirm builds a dialog of width cells (at most) with a title,
// paragraphs, an optional address and buttons, focus on the button focus.
func NewConfirm(c *common.Common, width int, title string, paras []string, link string, focus int, buttons ...Button) *Confirm {
	return &Confirm{c: c, keys: DefaultConfirmKeyMap(), title: title, paras: paras, link: link, buttons: buttons, focus: focus, width: width}
}

// KeyMap is the dialog's keys, enabled for its number of buttons.
func (d *Confirm) KeyMap() ConfirmKeyMap {
	k := d.keys
	many := len(d.buttons) > 1
	for _, b := range []*key.Binding{&k.Prev, &k.Next, &k.Confirm, &k.Cancel} {
		b.SetEnabled(many)
	}
	k.Close.SetEnabled(!many)
	return k
}

// Update implements Dialog.
func (d *Confirm) Update(msg tea.Msg) (common.Action, tea.Cmd) {
	kp, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil, nil
	}
	k := d.KeyMap()
	n := len(d.buttons)
	switch {
	case key.Matches(kp, k.Close), key.Matches(kp, k.Cancel):
		return Close{}, nil
	case key.Matches(kp, k.Prev):
		d.focus = (d.focus + n - 1) % n
	case key.Matches(kp, k.Next):
		d.focus = (d.focus + 1) % n
	case key.Matches(kp, k.Confirm):
		return d.buttons[d.focus].Action, nil
	}
	for _, b := range d.buttons {
		if key.Matches(kp, b.Key) {
			return b.Action, nil
		}
	}
	return nil, nil
}

// View implements Dialog.
func (d *Confirm) View() string {
	st := d.c.Styles
	w := d.c.BoxWidth(d.width)
	inner := w - st.Dialog.GetHorizontalFrameSize()
	body := common.Paragraphs(st.Text, inner, d.paras...)
	if d.link != "" {
		body += "\n" + st.Link.Render(common.WrapLines(present.Clean(d.link), inner))
	}
	btns := make([]string, len(d.buttons))
	for i, b := range d.buttons {
		style := st.Button
		if i == d.focus {
			style = st.ButtonActive
			if b.Danger {
				style = st.ButtonDanger
			}
		}
		label := b.Key.Help().Key + " " + b.Key.Help().Desc
		if i == d.focus && st.Plain {
			label = "[" + label + "]"
		}
		btns[i] = style.Render(label)
	}
	body += "\n\n" + strings.Join(btns, " ")
	return common.Box(st, w, d.title, body, d.KeyMap().ShortHelp()...)
}
