package serve

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync/atomic"
	"time"

	"github.com/keyfob/keyfob/accounts"
)

// directory is what the server knows of the store at one stamp: the
// consumers by credential hash and the accounts by id. It is never
// changed once published, except for each account's current token, which
// a refresh replaces in place, and the time of its last full check.
type directory struct {
	stamp     string
	consumers map[string]accounts.Consumer // by credential hash
	byID      map[string]*slot
	accounts  []accounts.Account // for resolving NAME in /v1/token/NAME
	// file is the store file as it was before it was read (nil when
	// there was none); checked is when the stamp was last compared
	// (Unix nanoseconds).
	file    fs.FileInfo
	checked *atomic.Int64
}

// slot holds an account as last read or refreshed.
type slot struct {
	cur atomic.Pointer[accounts.Account]
}

// fullCheckEvery is how often the whole stamp is compared even when the
// store file is the same: the stamp also covers recovery files, which
// matter less here (a token due for a refresh is read through the
// manager, which merges them).
const fullCheckEvery = time.Second

// load reads the store into a new directory.
func (s *Server) load() (*directory, error) {
	file, _ := os.Lstat(s.m.Store.Path())
	stamp := s.m.Store.Stamp()
	f, err := s.m.Store.Load()
	if err != nil {
		return nil, err
	}
	d := &directory{
		stamp:     stamp,
		consumers: make(map[string]accounts.Consumer, len(f.Consumers)),
		byID:      make(map[string]*slot, len(f.Accounts)),
		accounts:  f.Accounts,
		file:      file,
		checked:   &atomic.Int64{},
	}
	d.checked.Store(time.Now().UnixNano())
	for i := range f.Accounts {
		sl := &slot{}
		sl.cur.Store(&f.Accounts[i])
		d.byID[f.Accounts[i].ID] = sl
	}
	for _, c := range f.Consumers {
		d.consumers[c.Hash] = c
	}
	return d, nil
}

// sameFile reports, with one lstat, that the store file is still the one
// the directory was read from: every keyfob write renames a new file into
// place, and an edit by hand changes the time or size.
func (d *directory) sameFile(path string) bool {
	if d.file == nil {
		return false
	}
	fi, err := os.Lstat(path)
	return err == nil && os.SameFile(fi, d.file) && fi.Size() == d.file.Size() && fi.ModTime().Equal(d.file.ModTime())
}

// current returns the directory for the store as it is now. On every
// request the store file is looked at (one lstat) and, when it changed or
// a second has passed, the store's stamp; so a consumer added or removed,
// or a token refreshed, by another keyfob process counts from the next
// request on. A store that cannot be read (edited by hand and broken)
// leaves the last good directory in place, and is reported once per stamp.
func (s *Server) current() *directory {
	d := s.dir.Load()
	path := s.m.Store.Path()
	now := time.Now().UnixNano()
	same := d.sameFile(path)
	if same && now-d.checked.Load() < int64(fullCheckEvery) {
		return d
	}
	// "" is a store that cannot be identified (missing, or from before
	// generations): it is read each time.
	if stamp := s.m.Store.Stamp(); same && stamp == d.stamp && stamp != "" {
		d.checked.Store(now)
		return d
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if d2 := s.dir.Load(); d2 != d && d2.sameFile(path) {
		return d2 // another request reloaded it meanwhile
	}
	next, err := s.load()
	if err != nil {
		if stamp := s.m.Store.Stamp(); stamp != d.stamp {
			s.log.note("the store cannot be read (%v); serving the consumers and accounts read before", err)
			kept := *d
			kept.file, _ = os.Lstat(path)
			kept.stamp, kept.checked = stamp, &atomic.Int64{}
			kept.checked.Store(now)
			s.dir.Store(&kept)
		}
		return s.dir.Load()
	}
	s.dir.Store(next)
	return next
}

// lookup finds the consumer of a credential. Looking it up by its hash
// compares no secret byte by byte.
func (s *Server) lookup(cred string) (accounts.Consumer, *directory, bool) {
	d := s.current()
	c, ok := d.consumers[accounts.HashCredential(cred)]
	return c, d, ok
}

// Outcomes of a token lookup, as logged.
const (
	outcomeOK        = "ok"        // the stored token was fresh
	outcomeRefreshed = "refreshed" // refreshed upstream (or by another process) first
	outcomeStale     = "stale"     // the refresh failed; the token served is still valid
)

// errNoAccount means the consumer's account is gone.
var errNoAccount = errors.New("the consumer's account no longer exists")

// token returns the account's access token, valid for the margin:
// from memory when it is, else through Manager.Token, one request per
// account at a time however many consumers ask.
func (s *Server) token(ctx context.Context, d *directory, id string) (accounts.Account, string, error) {
	sl := d.byID[id]
	if sl == nil {
		return accounts.Account{}, "", errNoAccount
	}
	a := sl.cur.Load()
	now := s.now()
	if a.ValidFor(now, a.EffectiveMargin(s.margin)) {
		return *a, outcomeOK, nil
	}
	got, err := s.flights.do(id, func() (accounts.Account, error) {
		// Shared by every waiting request: one client going away must not
		// cancel it for the others.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshWait)
		defer cancel()
		got, err := s.m.Token(rctx, id, s.margin)
		var unsaved *accounts.UnsavedError
		if errors.As(err, &unsaved) && got.ValidFor(s.now(), 0) {
			// The refresh worked but the store could not take it (the
			// token waits in a recovery file, if one could be written):
			// the token is good, the store is the operator's problem.
			s.log.note("%s", redact(err.Error(), got))
			err = nil
		}
		if err == nil {
			sl.cur.Store(&got)
		}
		return got, err
	})
	switch {
	case err == nil:
		return got, outcomeRefreshed, nil
	case errors.Is(err, accounts.ErrNotFound):
		return got, "", errNoAccount
	case !errors.Is(err, accounts.ErrLoginRequired) && !errors.Is(err, accounts.ErrNotRefreshable) &&
		a.ValidFor(s.now(), 0):
		// Upstream is down or slow, but the token still works for a while.
		return *a, outcomeStale, nil
	}
	return got, "", err
}

// unknownExpiresIn is the expires_in of a token whose expiry the server
// did not say: consumers come back after a while rather than at once.
const unknownExpiresIn = 300

// expiresIn is how long a's token has left, in whole seconds, never
// negative.
func expiresIn(a accounts.Account, now time.Time) int64 {
	if a.Expiry.IsZero() {
		return unknownExpiresIn
	}
	return max(int64(a.Expiry.Sub(now)/time.Second), 0)
}
