package serve

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/keyfob/keyfob/accounts"
)

// watchEvery is how often the service looks at the store for accounts
// changed by other processes. Consumers are looked at on every request
// (see lookup).
const watchEvery = 250 * time.Millisecond

// errStoreUnreadable means the store changed but cannot be read: the
// service cannot tell whether a consumer was removed meanwhile, so it
// answers none until it can.
var errStoreUnreadable = errors.New("the store cannot be read")

// lookup finds the consumer of a credential. Looking it up by its hash
// compares no secret byte by byte. The consumers are looked at first, so
// that one removed by another process is refused from the next request on.
func (s *Server) lookup(cred string) (accounts.Consumer, bool, error) {
	s.w.CheckConsumers()
	if err := s.w.Err(); err != nil {
		return accounts.Consumer{}, false, errors.Join(errStoreUnreadable, err)
	}
	c, ok := s.w.Consumer(accounts.HashCredential(cred))
	return c, ok, nil
}

// stillConsumer reports whether the consumer c still exists, looked at
// again just before a token is handed over: a consumer removed while its
// request waited for a refresh gets nothing.
func (s *Server) stillConsumer(c accounts.Consumer) bool {
	s.w.CheckConsumers()
	cur, ok := s.w.Consumer(c.Hash)
	return ok && s.w.Err() == nil && cur.AccountID == c.AccountID
}

// names reports whether ref names the account with id, by the rules of
// accounts.Resolve: an exact id, name or email of that account answers at
// once; a prefix must match no other account.
func (s *Server) names(ref string, a accounts.Account) bool {
	if ref == a.ID || strings.EqualFold(ref, a.Name) || (a.Email != "" && strings.EqualFold(ref, a.Email)) {
		return true
	}
	got, err := accounts.Resolve(s.w.Accounts(), ref)
	return err == nil && got.ID == a.ID
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
func (s *Server) token(ctx context.Context, id string) (accounts.Account, string, error) {
	a, ok := s.w.Account(id)
	if !ok {
		return accounts.Account{}, "", errNoAccount
	}
	now := s.now()
	if a.ValidFor(now, a.EffectiveMargin(s.margin)) {
		return a, outcomeOK, nil
	}
	got, err := s.flights.do(id, func() (accounts.Refreshed, error) {
		// Shared by every waiting request: one client going away must not
		// cancel it for the others.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshWait)
		defer cancel()
		start := time.Now()
		r, err := s.m.Token(rctx, id, s.margin)
		s.metrics.refreshed(r, err, time.Since(start))
		var unsaved *accounts.UnsavedError
		if errors.As(err, &unsaved) && r.Account.ValidFor(s.now(), 0) {
			// The refresh worked but the store could not take it (the
			// token waits in a recovery file or in memory): the token is
			// good, the store is the operator's problem.
			s.log.note("%s", redact(err.Error(), r.Account))
			err = nil
		}
		return r, err
	})
	switch {
	case err == nil && got.Stale != nil:
		// The refresh failed upstream, or waits out the back-off after a
		// failure, but the token still works for a while.
		return got.Account, outcomeStale, nil
	case err == nil:
		if got.Account.AccessToken == a.AccessToken {
			return got.Account, outcomeOK, nil
		}
		return got.Account, outcomeRefreshed, nil
	case errors.Is(err, accounts.ErrNotFound):
		return got.Account, "", errNoAccount
	case !errors.Is(err, accounts.ErrLoginRequired) && !errors.Is(err, accounts.ErrNotRefreshable) &&
		a.ValidFor(s.now(), 0):
		// Upstream is down or slow, but the token still works for a while.
		return a, outcomeStale, nil
	}
	return got.Account, "", err
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
