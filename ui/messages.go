package ui

import (
	"time"

	"github.com/keyfob/keyfob/accounts"
)

// Messages that the root's commands send back to Update. Every I/O result
// arrives as one of these (or as a part's own message); Update never waits
// for anything.
type (
	// tickMsg is the once-a-second countdown tick of the whole screen.
	tickMsg time.Time

	// stampMsg carries the store's stamp as read by watchCmd.
	stampMsg struct{ stamp string }

	// loadedMsg carries the store as read by loadCmd.
	loadedMsg struct {
		accts     []accounts.Account
		consumers []accounts.Consumer // of keyfob serve
		stamp     string
		err       error
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

	// configSavedMsg reports a settings write.
	configSavedMsg struct{ err error }

	// toastExpiredMsg hides the toast it names, unless a newer one replaced it.
	toastExpiredMsg struct{ seq int }

	// openedMsg reports opening a URL in the browser.
	openedMsg struct {
		what string
		err  error
	}
)
