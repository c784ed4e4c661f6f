// Package dialog holds the dialogs of keyfob's terminal interface (confirm
// a revocation or a removal, report a revocation, rename, edit, help) and
// the stack the root keeps them on. A dialog takes every key while it is on
// top; its Update returns what the user decided as an Action, which the
// root acts on. No dialog changes an account itself: it decides (Revoke,
// Remove, SaveName, SaveEdit, RemoveConsumer), the root runs the change,
// and a dialog that waits for the answer (rename, edit) is closed by the
// root on success or told why nothing changed with a Refused message.
package dialog

import (
	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/ui/common"
)

// Dialog is a box over the screen that takes all input while it is on top.
type Dialog interface {
	// Update handles a message and returns what the user decided (nil
	// while undecided) and a command.
	Update(msg tea.Msg) (common.Action, tea.Cmd)
	// View renders the box; the root centres it over the screen.
	View() string
}

// Sizer is a dialog with inputs to lay out again when the screen's size
// or the styles change.
type Sizer interface{ SetSize(width, height int) }

// Worker is a dialog that shows the spinner while it works.
type Worker interface{ Busy() bool }

// Closer is a dialog that holds something open (a sign-in's listener);
// Close releases it before it returns.
type Closer interface{ Close() }

// The decisions a dialog returns.
type (
	// Close closes the dialog that returned it.
	Close struct{}
	// Revoke revokes the account ID (named Name, cleaned) at its server,
	// and removes it too when Remove is set.
	Revoke struct {
		ID, Name string
		Remove   bool
	}
	// Remove forgets the account ID (named Name, cleaned) locally.
	Remove struct{ ID, Name string }
	// SaveName renames the account ID from Old (as shown) to Name. The
	// dialog stays open until the answer.
	SaveName struct{ ID, Old, Name string }
	// Copy puts Text (not a secret) on the clipboard.
	Copy struct{ What, Text string }
	// Open opens URL in the browser.
	Open struct{ What, URL string }
)

// Refused is the root's answer to a dialog whose change (SaveName,
// SaveEdit) the manager refused: the dialog stays open and shows why.
type Refused struct{ Err error }

// Stack is the dialogs open over the screen, the last one on top.
type Stack struct{ dialogs []Dialog }

// Push opens d on top.
func (s *Stack) Push(d Dialog) { s.dialogs = append(s.dialogs, d) }

// Len is the number of open dialogs.
func (s *Stack) Len() int { return len(s.dialogs) }

// Top is the dialog on top, or nil.
func (s *Stack) Top() Dialog {
	if len(s.dialogs) == 0 {
		return nil
	}
	return s.dialogs[len(s.dialogs)-1]
}

// All is every open dialog, bottom first.
func (s *Stack) All() []Dialog { return s.dialogs }

// Has reports whether d is open.
func (s *Stack) Has(d Dialog) bool {
	for _, e := range s.dialogs {
		if e == d {
			return true
		}
	}
	return false
}

// Remove closes d wherever it is on the stack. What d holds is released
// in the background: Close may wait briefly for a page being sent.
func (s *Stack) Remove(d Dialog) {
	for i, e := range s.dialogs {
		if e == d {
			s.dialogs = append(s.dialogs[:i:i], s.dialogs[i+1:]...)
			if c, ok := d.(Closer); ok {
				go c.Close()
			}
			return
		}
	}
}

// Clear closes every dialog, releasing what they hold before it returns.
func (s *Stack) Clear() {
	for _, d := range s.dialogs {
		if c, ok := d.(Closer); ok {
			c.Close()
		}
	}
	s.dialogs = nil
}

// Busy reports whether a dialog shows the spinner.
func (s *Stack) Busy() bool {
	for _, d := range s.dialogs {
		if w, ok := d.(Worker); ok && w.Busy() {
			return true
		}
	}
	return false
}

// SetSize lays every dialog out again.
func (s *Stack) SetSize(width, height int) {
	for _, d := range s.dialogs {
		if z, ok := d.(Sizer); ok {
			z.SetSize(width, height)
		}
	}
}
