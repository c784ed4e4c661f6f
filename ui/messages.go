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

	// storeChangedMsg says that other processes changed the store.
	storeChangedMsg struct{}

	// loadedMsg carries the accounts as loadCmd read them, and the
	// watcher of the store when it was just started.
	loadedMsg struct {
		watcher   *accounts.Watcher
		accts     []accounts.Account
		consumers []accounts.Consumer // of keyfob serve
		err       error
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
