// Package keyfobtest is what keyfob's tests share: accounts in every state
// the screens show and realistic stores of many, managers seeded with
// them, the sandbox with the presets keyfob demo uses (oauth/sandbox/presets)
// and accounts minted there, key presses, goldens of a part's View, a
// buffer goroutines may write at once, waits on a condition, a test's own
// home and XDG directories with no KEYFOB_* variable of the user's, the
// keyfob binary and the real TUI in tmux.
//
// Only tests import it; product code never does. It imports accounts, so
// the internal tests of package accounts (package accounts, not
// accounts_test) cannot use it.
package keyfobtest
