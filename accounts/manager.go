package accounts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

// Resolve finds the account ref names: an exact id, name or email (names
// and emails case-insensitively) first, else the one account whose id, name
// or email starts with ref. An empty ref names the only account there is.
func Resolve(accts []Account, ref string) (*Account, error) {
	if ref == "" {
		if len(accts) == 1 {
			return &accts[0], nil
		}
		return nil, &ResolveError{Total: len(accts)}
	}
	exact := func(a *Account) bool {
		return a.ID == ref || strings.EqualFold(a.Name, ref) || (a.Email != "" && strings.EqualFold(a.Email, ref))
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
// least minValid, refreshing it first when needed. A fresh token costs one
// read of the store and nothing else.
func (m *Manager) Token(ctx context.Context, ref string, minValid time.Duration) (Account, error) {
	a, err := m.Find(ref)
	if err != nil {
		return Account{}, err
	}
	if a.ValidFor(m.now(), minValid) {
		return a, nil
	}
	if err := usable(a); err != nil {
		return a, err
	}
	return m.refresh(ctx, a, func(cur Account) bool { return !cur.ValidFor(m.now(), minValid) }, nil)
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
// with minValid > 0, unless its token is still valid for minValid.
func (m *Manager) refreshGated(ctx context.Context, seen Account, minValid time.Duration, gate chan struct{}) (Account, error) {
	if seen.State == StateRevoked || !seen.Refreshable() {
		return seen, usable(seen)
	}
	need := func(cur Account) bool { return cur.AccessToken == seen.AccessToken }
	if minValid > 0 {
		if seen.ValidFor(m.now(), minValid) {
			return seen, nil
		}
		need = func(cur Account) bool { return !cur.ValidFor(m.now(), minValid) }
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

	f, err := m.Store.Load()
	if err != nil {
		return seen, err
	}
	p := f.Find(seen.ID)
	if p == nil {
		return seen, fmt.Errorf("%w: %q was removed while waiting to refresh it", ErrNotFound, seen.Name)
	}
	cur := *p
	if !need(cur) {
		return cur, nil
	}
	// Another process may have just learned that the refresh token is
	// dead: asking again would only repeat the rejection.
	if cur.State == StateRevoked || !cur.Refreshable() ||
		(cur.State == StateLoginRequired && seen.State != StateLoginRequired) {
		return cur, usable(cur)
	}

	if gate != nil {
		select {
		case gate <- struct{}{}:
		case <-ctx.Done():
			return cur, ctx.Err()
		}
	}
	g, rerr := m.Auth.Refresh(ctx, cur)
	if gate != nil {
		<-gate
	}
	now := m.now()
	if rerr != nil {
		// Record the failure; the tokens stay as they were.
		_ = m.persist(ctx, func(f *File) error {
			if a := f.Find(cur.ID); a != nil {
				a.LastRefresh = &RefreshResult{At: now, Error: rerr.Error()}
				a.State, a.StateDetail = StateError, rerr.Error()
				if errors.Is(rerr, ErrLoginRequired) {
					a.State = StateLoginRequired
				}
			}
			return nil
		})
		return cur, fmt.Errorf("refreshing %q: %w", cur.Name, rerr)
	}

	cur.Apply(g, now)
	werr := m.persist(ctx, func(f *File) error {
		a := f.Find(cur.ID)
		if a == nil {
			return fmt.Errorf("%w: %q was removed during the refresh", ErrNotFound, cur.Name)
		}
		a.Apply(g, now)
		return nil
	})
	if werr != nil {
		if errors.Is(werr, ErrNotFound) {
			return cur, werr
		}
		path, rerr := m.Store.SaveRecovery(cur)
		if rerr != nil {
			path = ""
		}
		return cur, &UnsavedError{Account: cur.Name, StorePath: m.Store.Path(), RecoveryPath: path, Err: werr}
	}
	return cur, nil
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

// Add saves a freshly logged-in account. An account of the same kind,
// client and subject (the same login again, e.g. after "login required")
// is updated in place, keeping its id and name; replaced says so. A new
// account gets an id, and a unique name derived from its email or kind
// when it has none.
func (m *Manager) Add(ctx context.Context, a Account) (saved Account, replaced bool, err error) {
	err = m.Store.Update(ctx, func(f *File) error {
		if prev := sameLogin(f, a); prev != nil {
			id, name, created := prev.ID, prev.Name, prev.CreatedAt
			*prev = a
			prev.ID, prev.CreatedAt = id, created
			if a.Name == "" {
				prev.Name = name
			} else if other := byName(f, a.Name); other != nil && other.ID != id {
				return fmt.Errorf("%w: an account named %q already exists; choose another name", ErrNameTaken, a.Name)
			}
			saved, replaced = *prev, true
			return nil
		}
		if a.Name == "" {
			a.Name = uniqueName(f, defaultName(a))
		} else if byName(f, a.Name) != nil {
			return fmt.Errorf("%w: an account named %q already exists; choose another name or remove it first", ErrNameTaken, a.Name)
		}
		a.ID = newID(f)
		if a.CreatedAt.IsZero() {
			a.CreatedAt = m.now()
		}
		f.Accounts = append(f.Accounts, a)
		saved = a
		return nil
	})
	if err != nil && a.RefreshToken != "" && !errors.Is(err, ErrNameTaken) {
		// The new tokens exist nowhere else: keep them in a recovery file.
		if a.ID == "" {
			a.ID = newID(&File{})
		}
		path, rerr := m.Store.SaveRecovery(a)
		if rerr != nil {
			path = ""
		}
		return a, false, &UnsavedError{Account: orDefault(a.Name, a.Email), StorePath: m.Store.Path(), RecoveryPath: path, Err: err}
	}
	return saved, replaced, err
}

// Import adds an account from an existing refresh token: it refreshes at
// once, which proves the token works and learns the expiry, scopes and
// email, then saves the account (and the rotated refresh token).
func (m *Manager) Import(ctx context.Context, a Account) (saved Account, replaced bool, err error) {
	if a.RefreshToken == "" && !a.UsesClientCredentials() {
		return a, false, errors.New("no refresh token was given; pipe it on stdin or paste it at the prompt")
	}
	// Refreshing spends the given refresh token: make sure the result can
	// be saved under its name before that.
	if err := m.CheckName(a); err != nil {
		return a, false, err
	}
	g, err := m.Auth.Refresh(ctx, a)
	if err != nil {
		return a, false, fmt.Errorf("the server did not accept the refresh token: %w", err)
	}
	a.Apply(g, m.now())
	saved, replaced, err = m.Add(ctx, a)
	if errors.Is(err, ErrNameTaken) {
		// Another process took the name meanwhile; the new refresh token
		// must not be lost over a name.
		a.Name = ""
		saved, replaced, err = m.Add(ctx, a)
	}
	return saved, replaced, err
}

// CheckName tells, before a login or import spends anything at the
// server, whether a's name can be saved: it fails when the store cannot be
// read, or when another account has the name and is not the same login
// (same kind, grant, client and token endpoint), which a new login would
// update in place.
func (m *Manager) CheckName(a Account) error {
	f, err := m.Store.Load()
	if err != nil {
		return err
	}
	if a.Name == "" {
		return nil
	}
	p := byName(f, a.Name)
	if p == nil || sameClient(p, &a) {
		return nil
	}
	return fmt.Errorf("%w: an account named %q already exists (%s); choose another name or remove it first",
		ErrNameTaken, p.Name, p.Kind)
}

func sameLogin(f *File, a Account) *Account {
	if a.Subject == "" {
		return nil
	}
	for i := range f.Accounts {
		p := &f.Accounts[i]
		if p.Subject == a.Subject && sameClient(p, &a) {
			return p
		}
	}
	return nil
}

// sameClient reports whether two accounts sign in the same way: same kind,
// grant, client and token endpoint.
func sameClient(p, a *Account) bool {
	return p.Kind == a.Kind && p.Grant == a.Grant && p.ClientID == a.ClientID &&
		p.Endpoints.TokenURL == a.Endpoints.TokenURL && p.Endpoints.BaseURL == a.Endpoints.BaseURL
}

func byName(f *File, name string) *Account {
	for i := range f.Accounts {
		if strings.EqualFold(f.Accounts[i].Name, name) {
			return &f.Accounts[i]
		}
	}
	return nil
}

func defaultName(a Account) string {
	if at := strings.IndexByte(a.Email, '@'); at > 0 {
		return a.Email[:at]
	}
	if a.Region != "" {
		return string(a.Kind) + "-" + a.Region
	}
	return string(a.Kind)
}

func uniqueName(f *File, base string) string {
	name := base
	for n := 2; byName(f, name) != nil; n++ {
		name = fmt.Sprintf("%s-%d", base, n)
	}
	return name
}

func newID(f *File) string {
	for {
		var b [4]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		if f.Find(id) == nil {
			return id
		}
	}
}

// Rename gives the account with id a new, unique name.
func (m *Manager) Rename(ctx context.Context, id, name string) (Account, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Account{}, errors.New("a name cannot be empty")
	}
	var out Account
	err := m.Store.Update(ctx, func(f *File) error {
		a := f.Find(id)
		if a == nil {
			return fmt.Errorf("%w: it was removed meanwhile", ErrNotFound)
		}
		if other := byName(f, name); other != nil && other.ID != id {
			return fmt.Errorf("%w: an account named %q already exists; choose another name", ErrNameTaken, name)
		}
		a.Name = name
		out = *a
		return nil
	})
	return out, err
}

// Remove forgets the account with id locally (no server call).
func (m *Manager) Remove(ctx context.Context, id string) error {
	return m.Store.Update(ctx, func(f *File) error {
		if !f.Remove(id) {
			return fmt.Errorf("%w: it was removed meanwhile", ErrNotFound)
		}
		return nil
	})
}

// Revoke asks the server to revoke the account's tokens and then marks the
// record revoked, or removes it when remove is set. The tokens are dropped
// from the record only when the server confirmed the revocation, and a
// record is removed only when the revocation did not fail, so a failed
// revocation can be tried again. The error is non-nil when the server could
// not be asked or refused; the record is marked revoked anyway.
func (m *Manager) Revoke(ctx context.Context, id string, remove bool) (Revocation, error) {
	a, err := m.Find(id)
	if err != nil {
		return Revocation{}, err
	}
	unlock, err := m.Store.LockAccount(ctx, a.ID, a.Name)
	if err != nil {
		return Revocation{}, err
	}
	defer unlock()
	if a, err = m.Find(a.ID); err != nil {
		return Revocation{}, err
	}
	rev, rerr := m.Auth.Revoke(ctx, a)
	if rerr != nil && rev.Outcome == "" {
		rev.Outcome = RevokeFailed
	}
	if rev.Outcome == RevokeFailed && rev.Detail == "" && rerr != nil {
		rev.Detail = rerr.Error()
	}
	// Removing after a failed revocation would leave live tokens at the
	// server that nothing here can revoke any more.
	removed := remove && rev.Outcome != RevokeFailed
	werr := m.Store.Update(ctx, func(f *File) error {
		if removed {
			f.Remove(a.ID)
			return nil
		}
		p := f.Find(a.ID)
		if p == nil {
			return nil
		}
		p.State, p.StateDetail = StateRevoked, rev.Detail
		if rev.Outcome == RevokedAtServer {
			p.AccessToken, p.RefreshToken, p.IDToken = "", "", ""
		}
		return nil
	})
	if werr != nil {
		return rev, fmt.Errorf("the server part is done (%s) but the store could not be updated: %w", rev.Outcome, werr)
	}
	if rerr == nil && rev.Outcome == RevokeFailed {
		rerr = errors.New(orDefault(rev.Detail, "the server refused"))
	}
	if rerr != nil {
		if remove {
			return rev, fmt.Errorf("revoking %q at the server: %w; the account was kept (marked revoked) so you can retry — keyfob remove forgets it anyway", a.Name, rerr)
		}
		return rev, fmt.Errorf("revoking %q at the server: %w", a.Name, rerr)
	}
	return rev, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
