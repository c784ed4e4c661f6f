package dialog

import (
	"fmt"
	"strconv"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// Decisions of the consumer dialogs.
type (
	// PickConsumer chose the consumer to remove, among several; the root
	// asks to confirm.
	PickConsumer struct{ Consumer accounts.Consumer }
	// RemoveConsumer removes the consumer Name of keyfob serve.
	RemoveConsumer struct{ Name string }
)

// maxPicked is how many consumers the chooser offers, one digit key each.
const maxPicked = 9

// NewPickConsumer asks which of a's consumers to remove; each is a button
// with a digit key. Beyond nine, the rest are named for the command line.
func NewPickConsumer(c *common.Common, a accounts.Account, cs []accounts.Consumer) *Confirm {
	paras := []string{fmt.Sprintf("Which program should stop getting the tokens of %s from keyfob serve?", present.OneLine(a.Name))}
	if len(cs) > maxPicked {
		paras = append(paras, fmt.Sprintf("%d more are not shown; keyfob serve remove NAME removes any of them.", len(cs)-maxPicked))
		cs = cs[:maxPicked]
	}
	buttons := make([]Button, 0, len(cs)+1)
	for i, k := range cs {
		buttons = append(buttons, button(strconv.Itoa(i+1), present.OneLine(k.Name), false, PickConsumer{Consumer: k}))
	}
	buttons = append(buttons, button("n", "cancel", false, Close{}))
	return NewConfirm(c, 70, "Remove a consumer of "+present.OneLine(a.Name), paras, "", len(buttons)-1, buttons...)
}

// NewRemoveConsumer asks before removing the consumer k of a.
func NewRemoveConsumer(c *common.Common, a accounts.Account, k accounts.Consumer) *Confirm {
	paras := []string{
		fmt.Sprintf("%s stops getting the tokens of %s: its credential stops working at once, for every copy of it.",
			present.OneLine(k.Name), present.OneLine(a.Name)),
		"The account and its tokens stay. To let the program back in, give it a new credential: keyfob serve add.",
	}
	return NewConfirm(c, 64, "Remove consumer "+present.OneLine(k.Name)+"?", paras, "", 1,
		button("y", "remove", true, RemoveConsumer{Name: k.Name}),
		button("n", "cancel", false, Close{}))
}
