package ui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
)

// Messages that commands send back to Update. Every I/O result arrives as
// one of these; Update never waits for anything.
type (
	// tickMsg is the once-a-second countdown tick of the whole screen.
	tickMsg time.Time

	// stampMsg carries the store's stamp as read by watchCmd.
	stampMsg struct{ stamp string }

	// loadedMsg carries the store as read by loadCmd.
	loadedMsg struct {
		accts []accounts.Account
		stamp string
		err   error
	}

	// refreshedMsg is the outcome of one refresh.
	refreshedMsg struct {
		id    string
		acct  accounts.Account
		err   error
		auto  bool
		batch int // the refresh-all it belongs to, 0 for none
	}

	// revokedMsg is the outcome of a revocation.
	revokedMsg struct {
		id, name string
		removed  bool
		rev      accounts.Revocation
		err      error
	}

	// removedMsg is the outcome of removing an account locally.
	removedMsg struct {
		id, name string
		err      error
	}

	// renamedMsg is the outcome of a rename.
	renamedMsg struct {
		id, old string
		acct    accounts.Account
		err     error
	}

	// accountSavedMsg reports an account added by the login wizard or the
	// import form.
	accountSavedMsg struct {
		acct     accounts.Account
		replaced bool
		imported bool
	}

	// configSavedMsg reports a settings write.
	configSavedMsg struct{ err error }

	// toastExpiredMsg hides the toast it names, unless a newer one replaced it.
	toastExpiredMsg struct{ seq int }

	// clipClearMsg is due when a copied token should leave the clipboard.
	clipClearMsg struct{ seq int }

	// clipReadTimeoutMsg ends the wait for the terminal's clipboard answer.
	clipReadTimeoutMsg struct{ seq int }

	// clipClearedMsg reports a clipboard clearing; cleared is false when the
	// clipboard held something else by then.
	clipClearedMsg struct{ cleared bool }

	// openedMsg reports opening a URL in the browser.
	openedMsg struct {
		what string
		err  error
	}

	// Outcomes of dialogs.
	closeModalMsg    struct{}
	confirmRevokeMsg struct {
		id     string
		remove bool
	}
	confirmRemoveMsg struct{ id string }
	renameMsg        struct{ id, name string }
	copyTextMsg      struct{ what, text string }
	openURLMsg       struct{ what, url string }
)

// msgCmd wraps a message in a command.
func msgCmd(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }
