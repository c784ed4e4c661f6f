package serve

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/keyfob/keyfob/accounts"
)

// directory is what the server knows of the store at one stamp: the
// consumers by credential hash and the accounts by id. It is never
// changed once published, except for each account's current token, which
// a refresh replaces in place.
type directory struct {
	stamp     string
	consumers map[string]accounts.Consumer // by credential hash
	byID      map[string]*slot
	accounts  []accounts.Account // for resolving NAME in /v1/token/NAME
}

// slot holds an account as last read or refreshed.
type slot struct {
	cur atomic.Pointer[accounts.Account]
}

// load reads the store into a new directory.
func (s *Server) load() (*directory, error) {
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
	}
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

// current returns the directory for the store as it is now: the store's
// stamp (a few system calls, no decode) is compared with the one the
// directory was read at on every request, so that a consumer added or
// removed, or a token refreshed, by another keyfob process counts from the
// next request on. A store that cannot be read (edited by hand and broken)
// leaves the last good directory in place, and is reported once per stamp.
func (s *Server) current() *directory {
	d := s.dir.Load()
	stamp := s.m.Store.Stamp()
	// "" is a store that cannot be identified (missing, or from before
	// generations): it is read each time.
	if stamp == d.stamp && stamp != "" {
		return d
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if d = s.dir.Load(); stamp == d.stamp && stamp != "" {
		return d // another request reloaded it meanwhile
	}
	next, err := s.load()
	if err != nil {
		if stamp != d.stamp {
			s.log.note("the store cannot be read (%v); serving the consumers and accounts read before", err)
			kept := *d
			kept.stamp = stamp
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
