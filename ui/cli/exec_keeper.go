package cli

import (
	"context"
	"errors"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/present"
)

// Pauses of the token keeper.
const (
	keeperRetry    = 10 * time.Second // first pause after a failed refresh
	keeperRetryMax = 5 * time.Minute  // the longest pause between tries
	keeperMinWait  = time.Second      // never look again sooner than this
)

// tokenKeeper replaces the token file of an exec before its token expires.
// It refreshes through Manager.Token, the locked path every command takes,
// so a token another keyfob process refreshed meanwhile is used as it is.
type tokenKeeper struct {
	m      *accounts.Manager
	file   *tokenDir
	acct   accounts.Account
	margin time.Duration
	io     *IOStreams
	retry  time.Duration
	done   chan struct{}
}

// run keeps the file fresh until ctx ends. Failures are reported on
// stderr and tried again with growing pauses; a refresh token the server
// rejected, or a removed account, ends the keeping (CMD keeps the token it
// has until it expires).
func (k *tokenKeeper) run(ctx context.Context) {
	defer close(k.done)
	retry := k.retry
	if retry <= 0 {
		retry = keeperRetry
	}
	backoff := retry
	next, ok := k.dueIn(time.Now())
	for ok && sleepCtx(ctx, next) {
		got, err := k.m.Token(ctx, k.acct.ID, k.margin)
		if ctx.Err() != nil {
			return
		}
		a := got.Account
		if err == nil && got.Stale != nil {
			// The refresh failed, or waits out the back-off after a
			// failure, and the command's token still works: a failure
			// all the same.
			err = got.Stale
		}
		if err != nil {
			if errors.Is(err, accounts.ErrLoginRequired) || errors.Is(err, accounts.ErrNotFound) ||
				errors.Is(err, accounts.ErrNotRefreshable) {
				fprintf(k.io.Err, "keyfob: %s; the command keeps its token until %s\n",
					present.OneLine(err.Error()), k.acct.Expiry.Local().Format(time.DateTime))
				return
			}
			next, backoff = backoff, min(2*backoff, keeperRetryMax)
			var held *accounts.BackoffError
			if errors.As(err, &held) {
				next = max(next, held.RetryIn(time.Now()).Round(time.Second)) // no refresh reaches the server before
			}
			fprintf(k.io.Err, "keyfob: could not refresh the token of %s (%s); trying again in %s\n",
				present.Clean(k.acct.Name), present.OneLine(err.Error()), next)
			continue
		}
		backoff = retry
		if a.AccessToken != k.acct.AccessToken {
			if err := k.file.write(a.AccessToken); err != nil {
				fprintf(k.io.Err, "keyfob: %s\n", present.OneLine(err.Error()))
			}
		}
		k.acct = a
		next, ok = k.dueIn(time.Now())
	}
}

// dueIn is how long until the token is due for a refresh; false when its
// expiry is unknown (nothing to schedule).
func (k *tokenKeeper) dueIn(now time.Time) (time.Duration, bool) {
	due := k.acct.RefreshDue(k.margin)
	if due.IsZero() {
		return 0, false
	}
	return max(due.Sub(now), keeperMinWait), true
}

// sleepCtx waits d, or less when ctx ends first; it reports whether the
// whole wait passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
