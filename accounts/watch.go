package accounts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Watcher keeps a copy of every account and consumer in memory, current
// with what other processes (and, for a shared store, other machines)
// write: the TUI and the token service read it instead of the store. The
// process's own writes through the Manager go into it directly and are not
// reported as changes, so a face never reloads because of itself.
type Watcher struct {
	m *Manager

	mu    sync.Mutex
	slots map[string]*slot // by id
	errs  map[string]error // accounts that could not be read, by id
	order atomic.Pointer[[]*slot]
	cons  atomic.Pointer[consumerIndex]
	err   atomic.Pointer[error]

	src     watchSource
	changed chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
}

// slot holds one account as last read or written.
type slot struct {
	cur atomic.Pointer[Account]
}

// consumerIndex is the consumers, by credential hash and in order.
type consumerIndex struct {
	list   []Consumer
	byHash map[string]Consumer
}

// lookFor is what a Watcher is told may have changed: the ids of
// accounts, all of them (when the backend cannot say which), the
// consumers.
type lookFor struct {
	ids            []string
	all, consumers bool
}

func (l lookFor) empty() bool { return len(l.ids) == 0 && !l.all && !l.consumers }

// merge adds what o looks for to l.
func (l lookFor) merge(o lookFor) lookFor {
	l.ids = append(slices.Clone(l.ids), o.ids...)
	l.all, l.consumers = l.all || o.all, l.consumers || o.consumers
	return l
}

// watchSource is how a backend tells a Watcher what may have changed.
type watchSource interface {
	// run looks every interval (or as the store signals) until ctx ends.
	run(ctx context.Context, interval time.Duration)
	// checkConsumers looks at the consumers now.
	checkConsumers()
}

// Watch reads the whole store into a new Watcher, which then follows the
// changes others make, looking at least every interval (or as soon as the
// store signals them). Close stops it.
func (m *Manager) Watch(ctx context.Context, interval time.Duration) (*Watcher, error) {
	b, err := m.ready(ctx)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := &Watcher{m: m, slots: map[string]*slot{}, changed: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	// The source marks the store before the snapshot reads it: a change
	// made between the two is then seen again at the first look, never
	// lost between them.
	w.src = watchSourceOf(w, b, func(l lookFor) lookFor { return w.reload(wctx, l) })
	snap, err := m.Snapshot(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	w.install(snap.Accounts)
	w.setConsumers(snap.Consumers)
	m.watchMu.Lock()
	m.watchers = append(m.watchers, w)
	m.watchMu.Unlock()
	go func() {
		defer close(w.done)
		w.src.run(wctx, interval)
	}()
	return w, nil
}

// Close stops the watcher.
func (w *Watcher) Close() {
	w.cancel()
	<-w.done
	m := w.m
	m.watchMu.Lock()
	m.watchers = slices.DeleteFunc(m.watchers, func(x *Watcher) bool { return x == w })
	m.watchMu.Unlock()
}

// CheckConsumers looks at the consumers now, not at the next interval:
// the token service does it before it answers, so that a consumer removed
// by another process gets no token from the next request on. On a file
// store it costs one lstat when nothing changed.
func (w *Watcher) CheckConsumers() { w.src.checkConsumers() }

// Changed delivers a value after others changed the store (at most one
// waits: a reader takes everything that changed since).
func (w *Watcher) Changed() <-chan struct{} { return w.changed }

// Err is why the store as a whole (its consumers, the list of its
// accounts) could not be read at the last look after it changed (nil when
// it could): what the watcher holds may be out of date, and callers that
// must not act on stale data (the token service honouring a removed
// consumer) refuse until it clears. An account that cannot be read has an
// error of its own (AccountErr).
func (w *Watcher) Err() error {
	if p := w.err.Load(); p != nil {
		return *p
	}
	return nil
}

// Accounts returns every account, in the store's order.
func (w *Watcher) Accounts() []Account {
	order := *w.order.Load()
	out := make([]Account, len(order))
	for i, s := range order {
		out[i] = *s.cur.Load()
	}
	return out
}

// Account returns the account with id.
func (w *Watcher) Account(id string) (Account, bool) {
	w.mu.Lock()
	s := w.slots[id]
	w.mu.Unlock()
	if s == nil {
		return Account{}, false
	}
	return *s.cur.Load(), true
}

// Consumers returns every consumer.
func (w *Watcher) Consumers() []Consumer { return slices.Clone(w.cons.Load().list) }

// Consumer returns the consumer whose credential has the hash.
func (w *Watcher) Consumer(hash string) (Consumer, bool) {
	c, ok := w.cons.Load().byHash[hash]
	return c, ok
}

func (w *Watcher) signal() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// install replaces every slot with accts (in order).
func (w *Watcher) install(accts []Account) {
	w.mu.Lock()
	defer w.mu.Unlock()
	slots := make(map[string]*slot, len(accts))
	order := make([]*slot, len(accts))
	for i := range accts {
		s := w.slots[accts[i].ID]
		if s == nil {
			s = &slot{}
		}
		a := accts[i]
		s.cur.Store(&a)
		slots[a.ID], order[i] = s, s
	}
	w.slots = slots
	w.order.Store(&order)
}

func (w *Watcher) setConsumers(cs []Consumer) {
	idx := &consumerIndex{list: cs, byHash: make(map[string]Consumer, len(cs))}
	for _, c := range cs {
		idx.byHash[c.Hash] = c
	}
	w.cons.Store(idx)
}

// own takes in an account this process wrote; it is no change to report.
func (w *Watcher) own(a Account) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s := w.slots[a.ID]; s != nil {
		s.cur.Store(&a)
		return
	}
	s := &slot{}
	s.cur.Store(&a)
	w.slots[a.ID] = s
	order := append(slices.Clone(*w.order.Load()), s)
	sortSlots(order)
	w.order.Store(&order)
}

// ownRemoved takes out an account this process removed.
func (w *Watcher) ownRemoved(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.slots[id]
	if s == nil {
		return
	}
	delete(w.slots, id)
	order := slices.DeleteFunc(slices.Clone(*w.order.Load()), func(x *slot) bool { return x == s })
	w.order.Store(&order)
}

func sortSlots(order []*slot) {
	slices.SortFunc(order, func(a, b *slot) int {
		x, y := a.cur.Load(), b.cur.Load()
		if c := x.CreatedAt.Compare(y.CreatedAt); c != 0 {
			return c
		}
		switch {
		case x.ID < y.ID:
			return -1
		case x.ID > y.ID:
			return 1
		}
		return 0
	})
}

// reload reads what the backend says may have changed and reports a
// change when something did. It returns what it could not read: the
// source tells it again at its next look, so that a change whose first
// read failed (a lock held too long, a record caught half-edited by hand)
// is not lost once the store is readable again.
func (w *Watcher) reload(ctx context.Context, l lookFor) (retry lookFor) {
	m := w.m
	ids, all, consumers := l.ids, l.all, l.consumers
	// This process's writes are on disk and in the watcher together, never
	// one without the other, when the watcher looks (see holdPublish).
	m.pubMu.Lock()
	defer m.pubMu.Unlock()
	changed := false
	var failed error // of the store as a whole: its marker, its consumers
	if consumers || all {
		cs, err := m.b.consumers(ctx)
		if err != nil {
			failed, retry.consumers = err, true
		} else if !sameJSON(cs, w.cons.Load().list) {
			w.setConsumers(cs)
			changed = true
		}
	}
	if all {
		all, err := m.b.ids(ctx, 0)
		if err != nil {
			failed, retry.all = errors.Join(failed, err), true
		}
		seen := make(map[string]bool, len(all))
		for _, id := range all {
			seen[id] = true
		}
		for _, a := range w.Accounts() {
			if !seen[a.ID] {
				all = append(all, a.ID) // gone: reloadOne says so
			}
		}
		ids = all
	}
	for _, id := range slices.Compact(slices.Sorted(slices.Values(ids))) {
		c, err := w.reloadOne(ctx, id)
		changed = c || changed
		if err != nil {
			retry.ids = append(retry.ids, id)
		}
	}
	if failed != nil {
		w.err.Store(&failed)
		w.signal()
		return retry
	}
	if w.err.Swap(nil) != nil {
		changed = true
	}
	if changed {
		w.signal()
	}
	return retry
}

// reloadOne reads the account with id again and reports whether it
// changed, and the error of reading it. An account that cannot be read
// keeps its last good copy and gets an error of its own (AccountErr): one
// record broken by hand stops nothing but its own account.
func (w *Watcher) reloadOne(ctx context.Context, id string) (bool, error) {
	a, err := w.m.Get(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		w.setAccountErr(id, nil)
		if _, ok := w.Account(id); ok {
			w.ownRemoved(id)
			return true, nil
		}
		return false, nil
	case err != nil:
		return w.setAccountErr(id, err), err
	}
	changed := w.setAccountErr(id, nil)
	if old, ok := w.Account(id); !ok || !sameAccount(old, a) {
		w.own(a)
		changed = true
	}
	return changed, nil
}

// setAccountErr records the error of reading the account with id (nil:
// none) and reports whether that changed anything.
func (w *Watcher) setAccountErr(id string, err error) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, had := w.errs[id]
	if err == nil {
		delete(w.errs, id)
		return had
	}
	if w.errs == nil {
		w.errs = map[string]error{}
	}
	w.errs[id] = err
	return !had
}

// AccountErr is why the account with id could not be read at the last
// look after it changed (nil when it could): the watcher holds its last
// good copy, which may be out of date.
func (w *Watcher) AccountErr(id string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.errs[id]
}

// holdPublish is held by this process's writes from before they reach the
// store until the watchers have them (published), so that a watcher never
// takes one for another process's change. Writes hold it together; a
// watcher's look holds it alone. It returns the release. A write takes it
// after the locks of the accounts it writes, never before: a refresh holds
// its account's lock when it takes this, and a writer waiting here for an
// account's lock would, with a watcher's look waiting between them, keep
// both waiting until the lock's timeout.
func (m *Manager) holdPublish() func() {
	m.pubMu.RLock()
	return m.pubMu.RUnlock
}

// published feeds an account this process just wrote to its watchers.
func (m *Manager) published(a Account) {
	m.watchMu.Lock()
	defer m.watchMu.Unlock()
	for _, w := range m.watchers {
		w.own(a)
	}
}

// unpublished tells the watchers of an account this process removed.
func (m *Manager) unpublished(id string) {
	m.watchMu.Lock()
	defer m.watchMu.Unlock()
	for _, w := range m.watchers {
		w.ownRemoved(id)
	}
}

// publishedConsumers tells the watchers of consumers this process wrote.
func (m *Manager) publishedConsumers(cs []Consumer) {
	m.watchMu.Lock()
	defer m.watchMu.Unlock()
	for _, w := range m.watchers {
		w.setConsumers(cs)
	}
}

// sameAccount reports whether a and b are the same record: the same
// revision and the same content (times compared as the store writes them,
// so that an account this process wrote equals itself read back).
func sameAccount(a, b Account) bool {
	return a.Revision == b.Revision && sameJSON(a, b)
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
