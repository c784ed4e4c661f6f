package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Manager is the one door to the accounts: both faces of keyfob (the
// command line and the TUI), the login flows, the token service and the
// demo read and change accounts through it, never through the store
// behind it. Every operation returns what happened (the account before and
// after, whether a request was made), so callers need no callbacks.
type Manager struct {
	b   backend
	dir string // keyfob's directory: settings, and the store when it is a directory
	// Auth talks to the accounts' servers.
	Auth Authority
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// RefreshTimeout bounds every refresh (and revocation) request,
	// whatever the caller's context and HTTP client allow, so that an
	// account's lock is never held without bound (DefaultRefreshTimeout
	// when zero or negative).
	RefreshTimeout time.Duration

	notice func(string)

	readyMu sync.Mutex
	isReady bool

	// locks keeps one mutex per account id: the goroutines of this
	// process queue on it rather than each on the account's file lock.
	locksMu sync.Mutex
	locks   map[string]*accountMutex

	// unsaved holds rotated accounts that could be saved neither to the
	// store nor to a recovery file, by id: reads lay them over the store
	// and SaveUnsaved tries again, so that a long-running process never
	// refreshes from a spent token.
	unsavedMu sync.Mutex
	unsaved   map[string]Account

	watchMu  sync.Mutex
	watchers []*Watcher
	pubMu    sync.RWMutex // see holdPublish
}

// Options configure Open.
type Options struct {
	// Dir is keyfob's directory, where config.json lives, and the store
	// when the location names none ("" is DefaultDir).
	Dir string
	// Auth talks to the accounts' servers.
	Auth Authority
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// LockTimeout bounds every wait for a lock (DefaultLockTimeout when 0).
	LockTimeout time.Duration
	// RefreshTimeout: see Manager.RefreshTimeout.
	RefreshTimeout time.Duration
	// Notice receives messages for the user that are not errors (loose
	// permissions fixed, a store upgraded, a recovery file merged).
	Notice func(string)
	// Etcd configures an etcd:// store: its TLS files, credentials and
	// store key.
	Etcd EtcdOptions
}

// Open returns the Manager of the store at location, without touching it:
// "" (the store in Options.Dir), a directory, a file:// URL, or an etcd
// cluster, etcd://HOST:PORT[,HOST:PORT...]/PREFIX. Nothing is read or
// written before the first operation.
func Open(location string, opts Options) (*Manager, error) {
	if opts.Dir == "" {
		opts.Dir = DefaultDir()
	}
	m := &Manager{dir: opts.Dir, Auth: opts.Auth, Now: opts.Now, RefreshTimeout: opts.RefreshTimeout, notice: opts.Notice}
	if strings.HasPrefix(location, etcdScheme) {
		s, err := openEtcd(location, opts.Dir, opts.Etcd, opts.LockTimeout, func(s string) { m.noticef("%s", s) })
		if err != nil {
			return nil, err
		}
		m.b = s
		return m, nil
	}
	dir, err := storeDir(location, opts.Dir)
	if err != nil {
		return nil, err
	}
	m.b = &fileStore{dir: dir, lockTimeout: opts.LockTimeout, notice: func(s string) { m.noticef("%s", s) }}
	return m, nil
}

// storeDir is the directory a store location names.
func storeDir(location, dir string) (string, error) {
	switch {
	case location == "":
		return dir, nil
	case strings.HasPrefix(location, "file:"):
		u, err := url.Parse(location)
		if err != nil {
			return "", &LocationError{Location: location, Problem: err.Error()}
		}
		p := u.Path
		if u.Opaque != "" {
			p = u.Opaque
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", &LocationError{Location: location, Problem: "a file store must be on this machine (file:///path)"}
		}
		if p == "" {
			return "", &LocationError{Location: location, Problem: "it names no directory"}
		}
		return filepath.FromSlash(p), nil
	case strings.Contains(location, "://"):
		scheme, _, _ := strings.Cut(location, "://")
		return "", &LocationError{Location: location, Problem: fmt.Sprintf("keyfob does not know the store kind %q (it knows file://DIR and etcd://HOST:PORT/PREFIX)", scheme)}
	}
	return location, nil
}

// Location names the store in messages: its directory or URL.
func (m *Manager) Location() string { return m.b.location() }

// Dir is keyfob's directory (settings, keys, and the file store by
// default).
func (m *Manager) Dir() string { return m.dir }

// Close lets go of what the store holds open.
func (m *Manager) Close() error { return m.b.close() }

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

func (m *Manager) noticef(format string, args ...any) {
	if m.notice != nil {
		m.notice(fmt.Sprintf(format, args...))
	}
}

// ready makes sure, once, that the store is in this keyfob's format (an
// older one is migrated) and returns the backend.
func (m *Manager) ready(ctx context.Context) (backend, error) {
	m.readyMu.Lock()
	defer m.readyMu.Unlock()
	if m.isReady {
		return m.b, nil
	}
	if fs, ok := m.b.(*fileStore); ok {
		fs.fixPermissions()
	}
	if _, err := m.b.ready(ctx); err != nil {
		return nil, err
	}
	m.isReady = true
	return m.b, nil
}

// update runs fn as one change of the store.
func (m *Manager) update(ctx context.Context, fn func(tx) error) error {
	b, err := m.ready(ctx)
	if err != nil {
		return err
	}
	return b.update(ctx, fn)
}

// Snapshot reads every account and consumer.
func (m *Manager) Snapshot(ctx context.Context) (*Snapshot, error) {
	b, err := m.ready(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := b.load(ctx)
	if err != nil {
		return nil, err
	}
	snap.Accounts = m.layUnsaved(snap.Accounts)
	return snap, nil
}

// List returns every account, oldest first.
func (m *Manager) List(ctx context.Context) ([]Account, error) {
	snap, err := m.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return snap.Accounts, nil
}

// Get reads the account with id.
func (m *Manager) Get(ctx context.Context, id string) (Account, error) {
	b, err := m.ready(ctx)
	if err != nil {
		return Account{}, err
	}
	a, err := b.get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		if u, ok := m.unsavedOnly(id); ok {
			return u, nil
		}
	}
	if err != nil {
		return Account{}, err
	}
	return m.withUnsaved(a), nil
}

// Find resolves ref to one account: an exact id first (ids are unique, and
// callers that hold one must get that account even when another is named
// like it), then an exact name (case-insensitively; this costs one record
// whatever the number of accounts), then an exact email, else the one
// account whose id, name or email starts with ref (these two read every
// account). An empty ref names the only account there is.
func (m *Manager) Find(ctx context.Context, ref string) (Account, error) {
	b, err := m.ready(ctx)
	if err != nil {
		return Account{}, err
	}
	if ref == "" {
		ids, err := b.ids(ctx, 2)
		if err != nil {
			return Account{}, err
		}
		if len(ids) != 1 {
			total := len(ids)
			if total > 1 {
				all, err := b.ids(ctx, 0)
				if err != nil {
					return Account{}, err
				}
				total = len(all)
			}
			return Account{}, &ResolveError{Total: total}
		}
		return m.Get(ctx, ids[0])
	}
	if ValidID(ref) {
		if a, err := b.get(ctx, ref); err == nil {
			return m.withUnsaved(a), nil
		} else if !errors.Is(err, ErrNotFound) {
			return Account{}, err
		}
	}
	if a, ok, err := b.byName(ctx, ref); err != nil || ok {
		return m.withUnsaved(a), err
	}
	snap, err := m.Snapshot(ctx)
	if err != nil {
		return Account{}, err
	}
	a, err := Resolve(snap.Accounts, ref)
	if err != nil {
		return Account{}, err
	}
	return *a, nil
}

// Resolve finds the account ref names among accts, by the rules of
// Manager.Find.
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
	lref := strings.ToLower(ref)
	for _, match := range []func(*Account) bool{
		func(a *Account) bool { return strings.EqualFold(a.Name, ref) },
		func(a *Account) bool { return a.Email != "" && strings.EqualFold(a.Email, ref) },
		func(a *Account) bool {
			return strings.HasPrefix(a.ID, ref) || strings.HasPrefix(strings.ToLower(a.Name), lref) ||
				strings.HasPrefix(strings.ToLower(a.Email), lref)
		},
	} {
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

// accountMutex is the in-process lock of one account, counted so that the
// map of them does not grow with every account ever refreshed.
type accountMutex struct {
	sync.Mutex
	users int
}

// lockAccount takes the account's lock: first this process's mutex, then
// the store's lock (a file lock, or etcd's), which other processes and
// machines honour.
func (m *Manager) lockAccount(ctx context.Context, id, name string) (func(), error) {
	b, err := m.ready(ctx)
	if err != nil {
		return nil, err
	}
	m.locksMu.Lock()
	if m.locks == nil {
		m.locks = map[string]*accountMutex{}
	}
	am := m.locks[id]
	if am == nil {
		am = &accountMutex{}
		m.locks[id] = am
	}
	am.users++
	m.locksMu.Unlock()
	release := func() {
		m.locksMu.Lock()
		if am.users--; am.users == 0 {
			delete(m.locks, id)
		}
		m.locksMu.Unlock()
	}
	if !lockCtx(ctx, &am.Mutex) {
		release()
		return nil, fmt.Errorf("stopped waiting for account %q: %w", name, ctx.Err())
	}
	unlock, err := b.lockAccount(ctx, id, name)
	if err != nil {
		am.Unlock()
		release()
		return nil, err
	}
	return func() {
		unlock()
		am.Unlock()
		release()
	}, nil
}

// lockCtx locks mu unless ctx ends first.
func lockCtx(ctx context.Context, mu *sync.Mutex) bool {
	if mu.TryLock() {
		return true
	}
	done := make(chan struct{})
	go func() {
		mu.Lock()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		go func() { <-done; mu.Unlock() }()
		return false
	}
}

// Unusable returns a Manager whose every operation fails with err: what a
// face uses when the store location it was given cannot be opened, so that
// the error reaches the user the way any other does.
func Unusable(err error) *Manager {
	return &Manager{b: unusable{err}, dir: DefaultDir()}
}

// unusable is the backend of Unusable.
type unusable struct{ err error }

func (u unusable) location() string                             { return "" }
func (u unusable) ready(context.Context) (bool, error)          { return false, u.err }
func (u unusable) get(context.Context, string) (Account, error) { return Account{}, u.err }
func (u unusable) byName(context.Context, string) (Account, bool, error) {
	return Account{}, false, u.err
}
func (u unusable) ids(context.Context, int) ([]string, error)    { return nil, u.err }
func (u unusable) load(context.Context) (*Snapshot, error)       { return nil, u.err }
func (u unusable) consumers(context.Context) ([]Consumer, error) { return nil, u.err }
func (u unusable) lockAccount(context.Context, string, string) (func(), error) {
	return nil, u.err
}
func (u unusable) update(context.Context, func(tx) error) error { return u.err }
func (u unusable) prepare(context.Context, Account) (pendingWrite, error) {
	return nil, u.err
}
func (u unusable) saveRecovery(Account) (string, error) { return "", u.err }
func (u unusable) close() error                         { return nil }
