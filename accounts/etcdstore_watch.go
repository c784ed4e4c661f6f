package accounts

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// etcdWatch feeds a Watcher from an etcd watch on the store's prefix: the
// values come with the events, so a change written on another machine
// reaches the watcher's copy a round trip after it is written, and the
// token service's requests never wait for etcd. When the watch breaks (a
// member without a leader, a compacted revision, an unreachable cluster)
// the store is read whole again, and the watch resumes from there; the
// copy stays as it was meanwhile, so that still-valid tokens keep being
// served while the cluster has no quorum.
type etcdWatch struct {
	s *etcdStore
	w *Watcher
	// current is when the copy was last known to be current (unix nanos):
	// a watch event, a progress notice or a whole read.
	current atomic.Int64
}

func (s *etcdStore) newWatch(w *Watcher) watchSource {
	x := &etcdWatch{s: s, w: w}
	x.current.Store(time.Now().UnixNano())
	return x
}

func (x *etcdWatch) currentAt() time.Time { return time.Unix(0, x.current.Load()) }

func (x *etcdWatch) markCurrent() { x.current.Store(time.Now().UnixNano()) }

// checkConsumers has nothing to do: the watch brings consumer changes as
// they are written.
func (x *etcdWatch) checkConsumers() {}

func (x *etcdWatch) run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		rev, err := x.resync(ctx)
		if err == nil {
			wait = 100 * time.Millisecond
			x.follow(ctx, rev, interval)
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// resync reads the whole store into the watcher and returns the revision
// it read at.
func (x *etcdWatch) resync(ctx context.Context) (int64, error) {
	snap, rev, err := x.s.loadRev(ctx)
	if err != nil {
		if _, down := err.(*StoreUnavailableError); !down && ctx.Err() == nil {
			x.w.takeRemote(nil, nil, nil, false, err)
		}
		return 0, err
	}
	x.w.takeAll(snap)
	x.markCurrent()
	return rev, nil
}

// follow applies the watch's events from rev+1 on, until it breaks.
func (x *etcdWatch) follow(ctx context.Context, rev int64, interval time.Duration) {
	cli, err := x.s.client()
	if err != nil {
		return
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := cli.Watch(wctx, x.s.base+etcdLayout+"/", clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			// A watch that has heard nothing, not even the answer to the
			// last request for progress, may hang on a member that died
			// without closing its connections: read everything again.
			if time.Since(x.currentAt()) > max(4*interval, 2*time.Second) {
				return
			}
			// A progress notice says the watch has seen everything up to
			// now: the copy is current.
			pctx, pcancel := context.WithTimeout(wctx, interval)
			_ = cli.RequestProgress(pctx)
			pcancel()
		case resp, ok := <-wch:
			if !ok || resp.Err() != nil || resp.Canceled {
				return
			}
			if !resp.IsProgressNotify() {
				x.apply(ctx, resp.Events)
			}
			x.markCurrent()
		}
	}
}

// apply takes in one batch of events.
func (x *etcdWatch) apply(ctx context.Context, events []*clientv3.Event) {
	s := x.s
	var upserts []Account
	var removed []string
	var failed error
	cons := x.w.Consumers()
	consChanged := false
	for _, ev := range events {
		key := string(ev.Kv.Key)
		switch {
		case strings.HasPrefix(key, s.accountsPrefix()):
			id := strings.TrimPrefix(key, s.accountsPrefix())
			if ev.Type == mvccpb.DELETE {
				removed = append(removed, id)
				continue
			}
			a, err := s.decodeAccount(ev.Kv)
			if err != nil {
				failed = err
				continue
			}
			a, _ = s.local.overRecovery(id, a, true)
			upserts = append(upserts, a)
		case strings.HasPrefix(key, s.consumersPrefix()):
			consChanged = true
			hash := strings.TrimPrefix(key, s.consumersPrefix())
			cons = deleteConsumer(cons, hash)
			if ev.Type == mvccpb.DELETE {
				continue
			}
			c, err := s.decodeConsumer(ev.Kv)
			if err != nil {
				failed = err
				continue
			}
			cons = append(cons, c)
		case key == s.metaKey():
			// A rekey (or a newer keyfob) changed the store: writes read the
			// meta again, and the watcher stops if this key no longer fits.
			s.mu.Lock()
			s.metaRev = -1
			s.mu.Unlock()
			if ev.Type == mvccpb.DELETE {
				failed = &ForeignStoreError{Location: s.loc, Key: key, Problem: "its meta key was deleted"}
			} else if m, err := s.decodeMeta(ev.Kv.Value); err != nil {
				failed = err
			} else if err := s.checkKey(m); err != nil {
				failed = err
			}
		}
	}
	if consChanged {
		sortConsumers(cons)
	}
	x.w.takeRemote(upserts, removed, cons, consChanged, failed)
}

func deleteConsumer(cs []Consumer, hash string) []Consumer {
	out := cs[:0]
	for _, c := range cs {
		if c.Hash != hash {
			out = append(out, c)
		}
	}
	return out
}

// takeRemote takes in what others wrote, as a watch delivered it: the
// accounts written and removed, and the consumers when they changed. An
// account this process wrote itself comes back the same (but for its
// revision, which is the store's): it is taken quietly, not reported as a
// change. failed, when set, is a value that could not be read: the copy
// may be stale, and Err says so until a read works again.
func (w *Watcher) takeRemote(upserts []Account, removed []string, cons []Consumer, consChanged bool, failed error) {
	m := w.m
	m.pubMu.Lock()
	defer m.pubMu.Unlock()
	changed := false
	for _, a := range upserts {
		a = m.withUnsaved(a)
		old, ok := w.Account(a.ID)
		changed = changed || !ok || !sameJSON(old, a)
		w.own(a)
	}
	for _, id := range removed {
		if _, ok := w.Account(id); ok {
			w.ownRemoved(id)
			changed = true
		}
	}
	if consChanged && !sameJSON(cons, w.cons.Load().list) {
		w.setConsumers(cons)
		changed = true
	}
	w.settle(changed, failed)
}

// takeAll replaces the watcher's copy with snap, a whole read.
func (w *Watcher) takeAll(snap *Snapshot) {
	m := w.m
	m.pubMu.Lock()
	defer m.pubMu.Unlock()
	snap.Accounts = m.layUnsaved(snap.Accounts)
	before := w.Accounts()
	changed := len(before) != len(snap.Accounts)
	for i := 0; !changed && i < len(before); i++ {
		changed = before[i].ID != snap.Accounts[i].ID || !sameJSON(before[i], snap.Accounts[i])
	}
	w.install(snap.Accounts)
	if !sameJSON(snap.Consumers, w.cons.Load().list) {
		w.setConsumers(snap.Consumers)
		changed = true
	}
	w.settle(changed, nil)
}

// settle records failed (or clears an earlier failure) and signals a
// change.
func (w *Watcher) settle(changed bool, failed error) {
	if failed != nil {
		w.err.Store(&failed)
		w.signal()
		return
	}
	if w.err.Swap(nil) != nil {
		changed = true
	}
	if changed {
		w.signal()
	}
}

// CurrentAt is when the watcher's copy was last known to be current: for
// a store that another machine may change (etcd), the last event or
// progress notice of its watch; for a file store, now (it is looked at on
// every use that matters).
func (w *Watcher) CurrentAt() time.Time {
	if c, ok := w.src.(interface{ currentAt() time.Time }); ok {
		return c.currentAt()
	}
	return time.Now()
}
