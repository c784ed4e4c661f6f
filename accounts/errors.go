package accounts

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors callers branch on (the command line maps them to exit
// codes in one place).
var (
	// ErrLoginRequired means the server rejected the refresh token (reused,
	// expired, revoked or the password changed): only a new login helps.
	ErrLoginRequired = errors.New("login required")
	// ErrNotFound means no account matches a name, email or id.
	ErrNotFound = errors.New("no such account")
	// ErrAmbiguous means a name or prefix matches more than one account.
	ErrAmbiguous = errors.New("ambiguous account name")
	// ErrLockTimeout means another process held a lock for too long.
	ErrLockTimeout = errors.New("timed out waiting for a lock")
	// ErrNameTaken means another account already has the name.
	ErrNameTaken = errors.New("name already taken")
	// ErrNotRefreshable means the account has nothing to refresh with.
	ErrNotRefreshable = errors.New("account cannot be refreshed")
	// ErrOutcomeUnknown means a refresh request may have reached the server
	// but its answer was lost (a timeout, a connection that broke after the
	// request was sent, a cancel mid-request): the server may have rotated
	// the refresh token. Tesla keeps the previous refresh token usable for a
	// while, so the next refresh usually works; if it says login required,
	// only a new login helps.
	ErrOutcomeUnknown = errors.New("refresh outcome unknown")
	// ErrInvalidName means an account name is blank, too long or holds
	// control characters (see NameError).
	ErrInvalidName = errors.New("invalid account name")
	// ErrSymlink means a name inside the keyfob directory is a symbolic
	// link, which keyfob never opens (see SymlinkError).
	ErrSymlink = errors.New("symbolic link in the keyfob directory")
)

// CorruptError reports a store file that cannot be decoded. keyfob never
// writes over such a file; the user has to fix or move it.
type CorruptError struct {
	Path   string
	Line   int   // 1-based, 0 if unknown
	Column int   // 1-based, 0 if unknown
	Offset int64 // byte offset, -1 if unknown
	Err    error
}

func (e *CorruptError) Error() string {
	where := ""
	if e.Line > 0 {
		where = fmt.Sprintf(" at line %d, column %d", e.Line, e.Column)
	}
	return fmt.Sprintf("%s is not valid keyfob JSON%s: %v; keyfob will not write to it until you fix it or move it away",
		e.Path, where, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// VersionError reports a store written by a newer keyfob.
type VersionError struct {
	Path    string
	Version int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("%s has store version %d, newer than this keyfob understands (%d); upgrade keyfob — the file was left untouched",
		e.Path, e.Version, CurrentVersion)
}

// UnsavedError reports a refresh whose rotated refresh token could not be
// written to the store. The token was written to RecoveryPath instead (if
// that is empty, it could not be saved anywhere).
type UnsavedError struct {
	Account      string
	StorePath    string
	RecoveryPath string
	Err          error
	// InMemory is set when the token could be kept nowhere but in this
	// process, which uses it and tries to save it again while it runs.
	InMemory bool
}

func (e *UnsavedError) Error() string {
	if e.RecoveryPath == "" {
		return fmt.Sprintf("the new refresh token of %q could not be saved to %s (%v) nor to a recovery file; free disk space or fix permissions now — the previous refresh token may stop working soon",
			e.Account, e.StorePath, e.Err)
	}
	return fmt.Sprintf("the new refresh token of %q could not be saved to %s (%v); it was written to %s and keyfob will merge it back on its next successful write — do not delete that file",
		e.Account, e.StorePath, e.Err, e.RecoveryPath)
}

func (e *UnsavedError) Unwrap() error { return e.Err }

// LocationError says why a store location (--store, KEYFOB_STORE) cannot
// be used.
type LocationError struct {
	Location string
	Problem  string
}

func (e *LocationError) Error() string {
	return fmt.Sprintf("the store location %s cannot be used: %s", quoteShort(e.Location, 80), e.Problem)
}

// NotRefreshedError says that a refresh was not sent because there would
// be nowhere to save its answer (the store cannot be written, the disk is
// full): asking the server would spend the refresh token for a new one
// that could be lost. The account is as it was.
type NotRefreshedError struct {
	Account string
	Err     error
}

func (e *NotRefreshedError) Error() string {
	if errors.As(e.Err, new(*StoreUnavailableError)) || errors.Is(e.Err, errCASLost) {
		return fmt.Sprintf("keyfob did not refresh %q: etcd could not have stored the new tokens (%v); nothing was sent — the account is unchanged",
			e.Account, e.Err)
	}
	return fmt.Sprintf("keyfob did not refresh %q: the new tokens could not be saved (%v); free disk space or fix permissions, then try again — the account is unchanged",
		e.Account, e.Err)
}

func (e *NotRefreshedError) Unwrap() error { return e.Err }

// RefreshError is a refresh the server (or the way to it) failed: the
// account, then the cause, which names the server and what to do. A face
// that names the account itself shows Err alone.
type RefreshError struct {
	Account string
	Err     error
}

func (e *RefreshError) Error() string { return fmt.Sprintf("refreshing %q: %v", e.Account, e.Err) }

func (e *RefreshError) Unwrap() error { return e.Err }

// ResolveError says why a reference (a name, email, id or prefix) names no
// single account. It matches ErrNotFound or ErrAmbiguous with errors.Is.
// Its message says what happened; each face adds what to do in its own
// terms (a command to run, a key to press).
type ResolveError struct {
	// Ref is the reference as given; "" when none was.
	Ref string
	// Matches names the accounts an ambiguous reference matches.
	Matches []string
	// Total is how many accounts the store holds.
	Total int
}

func (e *ResolveError) Error() string {
	switch {
	case e.Ref == "" && e.Total == 0:
		return "there are no accounts yet"
	case e.Ref == "":
		return fmt.Sprintf("there are %d accounts and none was named", e.Total)
	case len(e.Matches) > 1:
		return fmt.Sprintf("%q matches %s", e.Ref, strings.Join(e.Matches, ", "))
	}
	return fmt.Sprintf("no account matches %q", e.Ref)
}

// Is matches ErrAmbiguous when several accounts (or, without a reference,
// several accounts and no default) match, else ErrNotFound.
func (e *ResolveError) Is(target error) bool {
	ambiguous := len(e.Matches) > 1 || (e.Ref == "" && e.Total > 1)
	return (target == ErrAmbiguous && ambiguous) || (target == ErrNotFound && !ambiguous)
}

// CannotRefreshError says that an account is in a state no refresh can fix: revoked,
// rejected by the server (login required) or without anything to refresh
// with. It matches ErrLoginRequired, or ErrNotRefreshable for an account
// with no refresh token.
type CannotRefreshError struct {
	Account string
	Kind    Kind
	State   State
	// Reason is the server's answer that put the account in this state, if
	// known (e.g. "login_required").
	Reason string
}

func (e *CannotRefreshError) Error() string {
	switch {
	case e.State == StateRevoked:
		return fmt.Sprintf("%q was revoked and needs a new login", e.Account)
	case e.State == StateLoginRequired && e.Reason != "":
		return fmt.Sprintf("the server rejected the refresh token of %q (%s): it needs a new login", e.Account, e.Reason)
	case e.State == StateLoginRequired:
		return fmt.Sprintf("the server rejected the refresh token of %q: it needs a new login", e.Account)
	}
	return fmt.Sprintf("%q has no refresh token: it needs a new login or an imported refresh token", e.Account)
}

// Is matches ErrLoginRequired for revoked and rejected accounts and
// ErrNotRefreshable for an account with nothing to refresh with.
func (e *CannotRefreshError) Is(target error) bool {
	switch e.State {
	case StateRevoked, StateLoginRequired:
		return target == ErrLoginRequired
	}
	return target == ErrNotRefreshable
}

// OutcomeUnknownError reports a refresh whose answer was lost after the
// request may have reached the server (see ErrOutcomeUnknown, which it
// matches). The account keeps its previous refresh token.
type OutcomeUnknownError struct {
	Account string
	// Import is set when the refresh was the one of an import, whose token
	// exists nowhere in the store.
	Import bool
	Err    error
}

func (e *OutcomeUnknownError) Error() string {
	if e.Import {
		return fmt.Sprintf("%v — the request may have reached the server, which may have rotated the refresh token you gave; "+
			"Tesla accepts a rotated-out refresh token for a while: import it again now, and if that says login required, log in instead", e.Err)
	}
	return fmt.Sprintf("%v — the request may have reached the server, which may have rotated the refresh token; "+
		"keyfob kept the previous one, which Tesla accepts for a while after a rotation: refresh again now, "+
		"and if that says login required, log in again", e.Err)
}

// Is matches ErrOutcomeUnknown.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// SymlinkError reports a symbolic link where keyfob keeps one of its files
// (the store, the settings, a lock, a recovery file or a backup). keyfob
// neither reads nor writes through it. It matches ErrSymlink.
type SymlinkError struct {
	Path string
}

func (e *SymlinkError) Error() string {
	return fmt.Sprintf("%s is a symbolic link, and keyfob opens none of its files through a link; "+
		"put the file itself there (or move the link away) and try again", e.Path)
}

// Is matches ErrSymlink.
func (e *SymlinkError) Is(target error) bool { return target == ErrSymlink }

// NameError says why an account name cannot be used. It matches
// ErrInvalidName; each face adds what to do in its own terms.
type NameError struct {
	Name string
	// Problem is what is wrong, e.g. "is blank".
	Problem string
}

func (e *NameError) Error() string {
	if strings.TrimSpace(e.Name) == "" {
		return "the account name " + e.Problem
	}
	return fmt.Sprintf("the account name %s %s", quoteShort(e.Name, 40), e.Problem)
}

// Is matches ErrInvalidName.
func (e *NameError) Is(target error) bool { return target == ErrInvalidName }

// quoteShort quotes s for a message, escaping control characters and
// cutting it to at most n runes.
func quoteShort(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return strconv.Quote(string(r[:n-1])) + "…"
	}
	return strconv.Quote(s)
}
