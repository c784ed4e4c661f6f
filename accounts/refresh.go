package accounts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Refreshed is what a refresh, or a request for a valid token, did.
type Refreshed struct {
	// Before is the account as the caller saw it; Account is the account
	// now (after the refresh, or as another process left it).
	Before, Account Account
	// Requested is set when a request went to the server.
	Requested bool
	// Stale is set when an automatic refresh failed, or was held back
	// after a failure (a *BackoffError), and the account's access token,
	// which is still valid, is returned instead: why there is no fresher
	// one. The faces say so.
	Stale error
}

// RegionChanged reports whether the refresh's tokens moved the account to
// another region or audience.
func (r Refreshed) RegionChanged() bool {
	return r.Account.Region != r.Before.Region || r.Account.Audience != r.Before.Audience
}

// RefreshMode says who asked for a refresh.
type RefreshMode int

const (
	// Automatic refreshes (a token asked for by a script, the token
	// service, exec, the TUI's auto-refresh) wait out the back-off after
	// a failure.
	Automatic RefreshMode = iota
	// Explicit refreshes (the user pressed r or ran keyfob refresh) skip
	// keyfob's own back-off, but not a delay the server asked for.
	Explicit
)

// Token returns the account ref names with an access token valid for at
// least minValid, refreshing it first when needed. minValid is capped at
// half the token's lifetime (see EffectiveMargin), so that tokens living
// shorter than minValid are not refreshed on every call. A fresh token
// costs the read of one record. When the refresh fails or backs off after
// a failure, a token that has not expired yet is returned as it is, with
// the reason in Refreshed.Stale.
func (m *Manager) Token(ctx context.Context, ref string, minValid time.Duration) (Refreshed, error) {
	a, err := m.Find(ctx, ref)
	if err != nil {
		return Refreshed{}, err
	}
	out := Refreshed{Before: a, Account: a}
	if a.ValidFor(m.now(), a.EffectiveMargin(minValid)) {
		return out, nil
	}
	if err := CanRefresh(a); err != nil {
		return out, err
	}
	need := func(cur Account) bool { return !cur.ValidFor(m.now(), cur.EffectiveMargin(minValid)) }
	return m.refresh(ctx, a, need, Automatic, nil)
}

// Refresh gets a new access token for seen now, unless another process
// refreshed it after seen was read (then its token is returned and no
// request is made).
func (m *Manager) Refresh(ctx context.Context, seen Account, mode RefreshMode) (Refreshed, error) {
	return m.refreshGated(ctx, seen, 0, mode, nil)
}

// refreshGated refreshes seen unless another process already did, or,
// with minValid > 0, unless its token is still valid for minValid (capped
// at half its lifetime, see EffectiveMargin).
func (m *Manager) refreshGated(ctx context.Context, seen Account, minValid time.Duration, mode RefreshMode, gate chan struct{}) (Refreshed, error) {
	out := Refreshed{Before: seen, Account: seen}
	if err := CanRefresh(seen); err != nil {
		return out, err
	}
	need := func(cur Account) bool { return cur.AccessToken == seen.AccessToken || !cur.ValidFor(m.now(), 0) }
	if minValid > 0 {
		if seen.ValidFor(m.now(), seen.EffectiveMargin(minValid)) {
			return out, nil
		}
		need = func(cur Account) bool { return !cur.ValidFor(m.now(), cur.EffectiveMargin(minValid)) }
	}
	return m.refresh(ctx, seen, need, mode, gate)
}

// refresh is the one place that calls Authority.Refresh. Under the
// account's lock it reads the account again and asks need whether a
// refresh is still wanted; then it sets aside what saving the answer needs
// (see backend.prepare), refreshes, and saves the result before returning.
// A rotated refresh token that cannot be saved goes to a recovery file,
// and failing that stays in this process (see UnsavedError). A non-nil
// gate bounds the requests in flight: only the request holds a place.
func (m *Manager) refresh(ctx context.Context, seen Account, need func(cur Account) bool, mode RefreshMode, gate chan struct{}) (Refreshed, error) {
	out := Refreshed{Before: seen, Account: seen}
	unlock, err := m.lockAccount(ctx, seen.ID, seen.Name)
	if err != nil {
		return out, err
	}
	defer unlock()

	cur, done, err := m.recheck(ctx, seen, need, mode)
	out.Account = cur
	if done && mode == Automatic && errors.Is(err, ErrBackoff) && cur.ValidFor(m.now(), 0) {
		out.Stale, err = err, nil
	}
	if done || err != nil {
		return out, err
	}
	if cur.Revision == 0 { // a login held only in memory: saved before it is spent
		if cur, err = m.adopt(ctx, cur); err != nil {
			return out, &NotRefreshedError{Account: cur.Name, Err: err}
		}
		out.Account = cur
	}
	pw, err := m.b.prepare(ctx, cur)
	if err != nil {
		return out, &NotRefreshedError{Account: cur.Name, Err: err}
	}
	defer pw.abort()
	g, rerr := m.request(ctx, cur, gate)
	out.Requested = true
	now := m.now()
	if rerr != nil {
		out.Account, err = m.recordFailure(pw, cur, g.RefreshToken, now, rerr)
		if err != nil {
			return out, err
		}
		rerr = &RefreshError{Account: cur.Name, Err: rerr}
		if mode == Automatic && out.Account.State != StateLoginRequired && out.Account.ValidFor(m.now(), 0) {
			out.Stale = rerr
			return out, nil
		}
		return out, rerr
	}
	cur.Apply(g, now)
	release := m.holdPublish()
	defer release()
	saved, werr := pw.commit(cur)
	var rec *recoveredError
	if errors.As(werr, &rec) {
		out.Account = saved
		return out, &UnsavedError{Account: cur.Name, StorePath: m.b.location(), RecoveryPath: rec.path, Err: rec.err}
	}
	if werr != nil {
		return out, m.keepUnsaved(cur, werr)
	}
	m.forgetUnsaved(saved)
	m.published(saved)
	out.Account = saved
	return out, nil
}

// recheck reads the account again under its lock and says whether the
// refresh is done without a request: another process refreshed it while
// this one waited (its token is used as it is, unless it has expired),
// need says no, the account can no longer be refreshed, or its refreshes
// back off after a failure (a *BackoffError).
func (m *Manager) recheck(ctx context.Context, seen Account, need func(cur Account) bool, mode RefreshMode) (cur Account, done bool, err error) {
	cur, err = m.Get(ctx, seen.ID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return seen, true, fmt.Errorf("%w: %q was removed while waiting to refresh it", ErrNotFound, seen.Name)
		}
		return seen, true, err
	}
	now := m.now()
	if cur.AccessToken != seen.AccessToken && cur.ValidFor(now, 0) {
		return cur, true, nil
	}
	if !need(cur) {
		return cur, true, nil
	}
	if err := CanRefresh(cur); err != nil {
		return cur, true, err
	}
	if at := cur.RetryAt(now); now.Before(at) && (mode == Automatic || cur.LastRefresh.ServerDelay) {
		return cur, true, &BackoffError{Account: cur.Name, RetryAt: at, Last: cur.LastRefresh.Error,
			ServerAsked: cur.LastRefresh.ServerDelay}
	}
	return cur, false, nil
}

// request asks the server for a new token within the manager's refresh
// deadline, holding a place in gate (when not nil) only for the request.
// A failure after which the server may have rotated the refresh token
// comes back as an *OutcomeUnknownError.
func (m *Manager) request(ctx context.Context, cur Account, gate chan struct{}) (Grant, error) {
	if gate != nil {
		select {
		case gate <- struct{}{}:
			defer func() { <-gate }()
		case <-ctx.Done():
			return Grant{}, ctx.Err()
		}
	}
	rctx, cancel := context.WithTimeout(ctx, m.refreshTimeout())
	defer cancel()
	g, err := m.Auth.Refresh(rctx, cur)
	if err != nil && outcomeUnknown(rctx, err) {
		err = &OutcomeUnknownError{Account: cur.Name, Err: err}
	}
	return g, err
}

// outcomeUnknown reports a refresh error after which the server may have
// acted: the Authority says so (a timeout or a connection lost after the
// request was sent), or the request's context ended while it was out.
func outcomeUnknown(rctx context.Context, err error) bool {
	return errors.Is(err, ErrOutcomeUnknown) || (rctx.Err() != nil && errors.Is(err, rctx.Err()))
}

// recordFailure notes a failed refresh in the account's record, through
// the write prepared before the request: the tokens stay as they were,
// except for a rotated refresh token that came in an answer keyfob could
// not use (rotated), which replaces the old one. The next attempt is held
// back (see nextRetry). It fails only when that token could not be stored,
// after keeping it in a recovery file.
func (m *Manager) recordFailure(pw pendingWrite, cur Account, rotated string, now time.Time, rerr error) (Account, error) {
	if rotated != "" && rotated != cur.RefreshToken {
		cur.SetRefreshToken(rotated, now)
	}
	failures := 1
	if cur.LastRefresh != nil && !cur.LastRefresh.OK {
		failures = cur.LastRefresh.Failures + 1
	}
	var rd retryDelayer
	cur.LastRefresh = &RefreshResult{At: now, Error: rerr.Error(), Failures: failures,
		RetryAt: nextRetry(now, failures, rerr), ServerDelay: errors.As(rerr, &rd) && rd.RetryDelay() > 0}
	cur.State, cur.StateDetail = StateError, rerr.Error()
	if errors.Is(rerr, ErrLoginRequired) {
		cur.State = StateLoginRequired
		cur.LastRefresh.RetryAt = time.Time{}
	}
	release := m.holdPublish()
	defer release()
	saved, werr := pw.commit(cur)
	var rec *recoveredError
	switch {
	case werr == nil:
		m.forgetUnsaved(saved)
		m.published(saved)
		return saved, nil
	case rotated == "":
		return cur, nil // the failure could not be noted; nothing is lost
	case errors.As(werr, &rec):
		return cur, &UnsavedError{Account: cur.Name, StorePath: m.b.location(), RecoveryPath: rec.path, Err: errors.Join(rerr, rec.err)}
	}
	// The rotated token exists nowhere else.
	return cur, m.keepUnsaved(cur, errors.Join(rerr, werr))
}

// keepUnsaved puts a, whose record could not be written (err), in a
// recovery file, and failing that in this process's memory (reads use it,
// SaveUnsaved tries again), and returns the *UnsavedError that says where.
func (m *Manager) keepUnsaved(a Account, err error) error {
	path, rerr := m.b.saveRecovery(a)
	if rerr != nil {
		path = ""
		m.unsavedMu.Lock()
		if m.unsaved == nil {
			m.unsaved = map[string]Account{}
		}
		m.unsaved[a.ID] = a
		m.unsavedMu.Unlock()
		m.published(a) // what this process uses; no other can see it
	}
	return &UnsavedError{Account: a.Name, StorePath: m.b.location(), RecoveryPath: path, Err: err, InMemory: rerr != nil}
}

// forgetUnsaved drops a rotation held in memory once a later one is saved.
func (m *Manager) forgetUnsaved(saved Account) {
	m.unsavedMu.Lock()
	defer m.unsavedMu.Unlock()
	if u, ok := m.unsaved[saved.ID]; ok && !newerRotation(u, saved) {
		delete(m.unsaved, saved.ID)
	}
}

// SaveUnsaved tries again to save the rotations this process holds in
// memory because neither the store nor a recovery file could take them. A
// long-running process (the token service, the TUI) calls it now and then;
// it returns how many are still unsaved.
func (m *Manager) SaveUnsaved(ctx context.Context) int {
	m.unsavedMu.Lock()
	pending := make([]Account, 0, len(m.unsaved))
	for _, a := range m.unsaved {
		pending = append(pending, a)
	}
	m.unsavedMu.Unlock()
	for _, a := range pending {
		unlock, err := m.lockAccount(ctx, a.ID, a.Name)
		if err != nil {
			continue
		}
		cur, err := m.Get(ctx, a.ID) // the held rotation laid over the record
		if err == nil && cur.Revision == 0 {
			_, err = m.adopt(ctx, cur) // a login the store never had
			unlock()
			continue
		}
		if err == nil {
			var pw pendingWrite
			if pw, err = m.b.prepare(ctx, cur); err == nil {
				var saved Account
				release := m.holdPublish()
				if saved, err = pw.commit(cur); err == nil {
					m.forgetUnsaved(saved)
					m.published(saved)
				}
				release()
				pw.abort()
			}
		}
		unlock()
	}
	m.unsavedMu.Lock()
	defer m.unsavedMu.Unlock()
	return len(m.unsaved)
}

// RefreshManyResult is the outcome of one account in RefreshMany.
type RefreshManyResult struct {
	Refreshed
	Err error
}

// RefreshMany refreshes the accounts in seen with at most concurrency
// requests in flight, calling done (from any goroutine, serialised) as
// each finishes. Results come back in the order of seen. With minValid > 0
// only tokens that expire within minValid are refreshed (cron-friendly: a
// token refreshed meanwhile by another process is left alone). Accounts
// that CanRefresh refuses are not sent to the server.
func (m *Manager) RefreshMany(ctx context.Context, seen []Account, concurrency int, minValid time.Duration, mode RefreshMode, done func(int, RefreshManyResult)) []RefreshManyResult {
	if concurrency < 1 {
		concurrency = 1
	}
	out := make([]RefreshManyResult, len(seen))
	gate := make(chan struct{}, concurrency)
	// Accounts past their request still hold a lock (and a descriptor)
	// until their result is written; a few rounds' worth is enough to keep
	// the gate busy.
	active := make(chan struct{}, 4*concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, a := range seen {
		wg.Add(1)
		active <- struct{}{}
		go func() {
			defer func() { <-active; wg.Done() }()
			got, err := m.refreshGated(ctx, a, minValid, mode, gate)
			r := RefreshManyResult{Refreshed: got, Err: err}
			mu.Lock()
			out[i] = r
			if done != nil {
				done(i, r)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
