package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Manager runs every operation on accounts that both faces of keyfob share:
// the command line and the TUI call it, never the store or the OAuth side
// directly, so a refresh is coordinated the same way everywhere.
type Manager struct {
	Store *Store
	Auth  Authority
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// RefreshTimeout bounds every refresh (and revocation) request,
	// whatever the caller's context and HTTP client allow, so that an
	// account's lock is never held without bound (DefaultRefreshTimeout
	// when zero or negative).
	RefreshTimeout time.Duration

	commits commitQueue
}

// commitQueue batches the store writes of concurrent refreshes: one
// caller at a time writes everything that is pending, so that refreshing
// many accounts costs a few writes rather than one each (group commit).
type commitQueue struct {
	mu      sync.Mutex
	pending []*commit
	writing bool
}

type commit struct {
	fn   func(*File) error
	err  error
	done chan struct{}
}

// persist applies fn to the store and returns once it is on disk. Calls
// that arrive while a write is under way are written together next.
func (m *Manager) persist(ctx context.Context, fn func(*File) error) error {
	c := &commit{fn: fn, done: make(chan struct{})}
	q := &m.commits
	q.mu.Lock()
	q.pending = append(q.pending, c)
	if q.writing {
		q.mu.Unlock()
		<-c.done
		return c.err
	}
	q.writing = true
	// The batch may hold other callers' changes: one caller giving up must
	// not drop them.
	ctx = context.WithoutCancel(ctx)
	for len(q.pending) > 0 {
		batch := q.pending
		q.pending = nil
		q.mu.Unlock()
		err := m.Store.Update(ctx, func(f *File) error {
			for _, c := range batch {
				c.err = c.fn(f)
			}
			return nil
		})
		for _, c := range batch {
			if err != nil {
				c.err = err
			}
			close(c.done)
		}
		q.mu.Lock()
	}
	q.writing = false
	q.mu.Unlock()
	return c.err
}

// NewManager returns a manager over store and auth.
func NewManager(store *Store, auth Authority) *Manager {
	return &Manager{Store: store, Auth: auth}
}

// DefaultRefreshTimeout bounds a refresh request when the Manager's
// RefreshTimeout is not set.
const DefaultRefreshTimeout = 60 * time.Second

func (m *Manager) refreshTimeout() time.Duration {
	if m.RefreshTimeout > 0 {
		return m.RefreshTimeout
	}
	return DefaultRefreshTimeout
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// List returns every account in store order.
func (m *Manager) List() ([]Account, error) {
	f, err := m.Store.Load()
	if err != nil {
		return nil, err
	}
	return f.Accounts, nil
}

// Find resolves ref (see Resolve) against the store.
func (m *Manager) Find(ref string) (Account, error) {
	f, err := m.Store.Load()
	if err != nil {
		return Account{}, err
	}
	a, err := Resolve(f.Accounts, ref)
	if err != nil {
		return Account{}, err
	}
	return *a, nil
}

// Resolve finds the account ref names: an exact id first (ids are unique,
// and callers that hold one must get that account even when another is
// named like it), then an exact name or email (case-insensitively), else
// the one account whose id, name or email starts with ref. An empty ref
// names the only account there is.
func Resolve(accts []Account, ref string) (*Account, error) {
	if ref == "" {
		if len(accts) == 1 {
			return &accts[0], nil
		}
		return nil, &ResolveError{Total: len(accts)}
	}
	for i := range accts {
		if accts[i].ID == ref {
			return &accts[i], nil
		}
	}
	exact := func(a *Account) bool {
		return strings.EqualFold(a.Name, ref) || (a.Email != "" && strings.EqualFold(a.Email, ref))
	}
	lref := strings.ToLower(ref)
	prefix := func(a *Account) bool {
		return strings.HasPrefix(a.ID, ref) || strings.HasPrefix(strings.ToLower(a.Name), lref) ||
			strings.HasPrefix(strings.ToLower(a.Email), lref)
	}
	for _, match := range []func(*Account) bool{exact, prefix} {
		var found []*Account
		for i := range accts {
			if match(&accts[i]) {
				found = append(found, &accts[i])
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		names := make([]string, len(found))
		for i, a := range found {
			names[i] = a.Name
		}
		return nil, &ResolveError{Ref: ref, Matches: names, Total: len(accts)}
	}
	return nil, &ResolveError{Ref: ref, Total: len(accts)}
}

// Token returns the account ref names with an access token valid for at
// least minValid, refreshing it first when needed. minValid is capped at
// half the token's lifetime (see EffectiveMargin), so that tokens living
// shorter than minValid are not refreshed on every call. A fresh token
// costs one read of the store and nothing else.
func (m *Manager) Token(ctx context.Context, ref string, minValid time.Duration) (Account, error) {
	a, err := m.Find(ref)
	if err != nil {
		return Account{}, err
	}
	if a.ValidFor(m.now(), a.EffectiveMargin(minValid)) {
		return a, nil
	}
	if err := usable(a); err != nil {
		return a, err
	}
	return m.refresh(ctx, a, func(cur Account) bool { return !cur.ValidFor(m.now(), cur.EffectiveMargin(minValid)) }, nil)
}

// usable rejects accounts that no refresh can bring back.
func usable(a Account) error {
	switch {
	case a.State == StateRevoked, a.State == StateLoginRequired:
		reason := ""
		if a.State == StateLoginRequired {
			reason = orDefault(a.StateDetail, "login_required")
		}
		return &CannotRefreshError{Account: a.Name, Kind: a.Kind, State: a.State, Reason: reason}
	case !a.Refreshable():
		return &CannotRefreshError{Account: a.Name, Kind: a.Kind, State: a.State}
	}
	return nil
}

// Refresh gets a new access token for the account with id now, unless
// another process refreshed it after seen was read (then its token is
// returned and no request is made).
func (m *Manager) Refresh(ctx context.Context, seen Account) (Account, error) {
	return m.refreshGated(ctx, seen, 0, nil)
}

// refreshGated refreshes seen unless another process already did, or,
// with minValid > 0, unless its token is still valid for minValid (capped
// at half its lifetime, see EffectiveMargin).
func (m *Manager) refreshGated(ctx context.Context, seen Account, minValid time.Duration, gate chan struct{}) (Account, error) {
	if seen.State == StateRevoked || !seen.Refreshable() {
		return seen, usable(seen)
	}
	need := func(cur Account) bool { return cur.AccessToken == seen.AccessToken || !cur.ValidFor(m.now(), 0) }
	if minValid > 0 {
		if seen.ValidFor(m.now(), seen.EffectiveMargin(minValid)) {
			return seen, nil
		}
		need = func(cur Account) bool { return !cur.ValidFor(m.now(), cur.EffectiveMargin(minValid)) }
	}
	return m.refresh(ctx, seen, need, gate)
}

// refresh is the one place that calls Authority.Refresh. Under the
// account's lock it reads the account again and asks need whether a
// refresh is still wanted; then it refreshes and persists the result before
// returning. A rotated refresh token that cannot be written to the store
// goes to a recovery file (see UnsavedError). A non-nil gate bounds the
// requests in flight: only the request holds a place in it, so that
// writing one result overlaps with the next requests.
func (m *Manager) refresh(ctx context.Context, seen Account, need func(cur Account) bool, gate chan struct{}) (Account, error) {
	unlock, err := m.Store.LockAccount(ctx, seen.ID, seen.Name)
	if err != nil {
		return seen, err
	}
	defer unlock()

	cur, done, err := m.recheck(seen, need)
	if done || err != nil {
		return cur, err
	}
	g, rerr := m.request(ctx, cur, gate)
	now := m.now()
	if rerr != nil {
		if err := m.recordFailure(ctx, cur, g.RefreshToken, now, rerr); err != nil {
			return cur, err
		}
		return cur, fmt.Errorf("refreshing %q: %w", cur.Name, rerr)
	}
	return m.save(ctx, cur, g, now)
}

// recheck reads the account again under its lock and says whether the
// refresh is done without a request: another process refreshed it while
// this one waited (its token is used as it is, unless it has expired),
// need says no, or the account can no longer be refreshed.
func (m *Manager) recheck(seen Account, need func(cur Account) bool) (cur Account, done bool, err error) {
	f, err := m.Store.Load()
	if err != nil {
		return seen, true, err
	}
	p := f.Find(seen.ID)
	if p == nil {
		return seen, true, fmt.Errorf("%w: %q was removed while waiting to refresh it", ErrNotFound, seen.Name)
	}
	cur = *p
	if cur.AccessToken != seen.AccessToken && cur.ValidFor(m.now(), 0) {
		return cur, true, nil
	}
	if !need(cur) {
		return cur, true, nil
	}
	// Another process may have just learned that the refresh token is
	// dead: asking again would only repeat the rejection.
	if cur.State == StateRevoked || !cur.Refreshable() ||
		(cur.State == StateLoginRequired && seen.State != StateLoginRequired) {
		return cur, true, usable(cur)
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

// recordFailure notes a failed refresh in the store; the tokens stay as
// they were, except for a rotated refresh token that came in an answer
// keyfob could not use (rotated), which replaces the old one. It fails only
// when that token could not be stored, after putting it in a recovery file.
func (m *Manager) recordFailure(ctx context.Context, cur Account, rotated string, now time.Time, rerr error) error {
	werr := m.persist(ctx, func(f *File) error {
		if a := f.Find(cur.ID); a != nil {
			if rotated != "" {
				a.RefreshToken, a.RefreshObtainedAt = rotated, now
			}
			a.LastRefresh = &RefreshResult{At: now, Error: rerr.Error()}
			a.State, a.StateDetail = StateError, rerr.Error()
			if errors.Is(rerr, ErrLoginRequired) {
				a.State = StateLoginRequired
			}
		}
		return nil
	})
	if werr == nil || rotated == "" {
		return nil
	}
	// The rotated token exists nowhere else: keep it in a recovery file.
	cur.RefreshToken, cur.RefreshObtainedAt = rotated, now
	return m.keepUnsaved(cur, errors.Join(rerr, werr))
}

// save applies g to cur and persists it, or, when the store cannot be
// written, keeps it in a recovery file and says so.
func (m *Manager) save(ctx context.Context, cur Account, g Grant, now time.Time) (Account, error) {
	cur.Apply(g, now)
	werr := m.persist(ctx, func(f *File) error {
		a := f.Find(cur.ID)
		if a == nil {
			return fmt.Errorf("%w: %q was removed during the refresh", ErrNotFound, cur.Name)
		}
		a.Apply(g, now)
		return nil
	})
	if werr == nil || errors.Is(werr, ErrNotFound) {
		return cur, werr
	}
	return cur, m.keepUnsaved(cur, werr)
}

// keepUnsaved puts a, whose tokens the store could not take (err), in a
// recovery file and returns the *UnsavedError that says where.
func (m *Manager) keepUnsaved(a Account, err error) error {
	path, rerr := m.Store.SaveRecovery(a)
	if rerr != nil {
		path = ""
	}
	return &UnsavedError{Account: a.Name, StorePath: m.Store.Path(), RecoveryPath: path, Err: err}
}

// RefreshResultFor is the outcome of one account in RefreshMany.
type RefreshResultFor struct {
	Account Account // after the refresh (or as it was, on error)
	Err     error
}

// RefreshMany refreshes the accounts in seen with at most concurrency
// requests in flight, calling done (from any goroutine, serialised) as
// each finishes. Results come back in the order of seen. With minValid > 0
// only tokens that expire within minValid are refreshed (cron-friendly: a
// token refreshed meanwhile by another process is left alone).
func (m *Manager) RefreshMany(ctx context.Context, seen []Account, concurrency int, minValid time.Duration, done func(int, RefreshResultFor)) []RefreshResultFor {
	if concurrency < 1 {
		concurrency = 1
	}
	out := make([]RefreshResultFor, len(seen))
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
			got, err := m.refreshGated(ctx, a, minValid, gate)
			r := RefreshResultFor{Account: got, Err: err}
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
