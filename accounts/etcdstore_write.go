package accounts

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// etcdMaxTxnOps is how many comparisons, and how many operations, one
// transaction may hold: etcd's default --max-txn-ops. A change larger
// than that (a bulk Put) is written in several transactions, each whole.
var etcdMaxTxnOps = 128

// etcdTx is a change of an etcd store: reads see the change so far and
// remember the mod revision of every key they read, which the write then
// compares, so that the change is written only onto what it read.
type etcdTx struct {
	s    *etcdStore
	ctx  context.Context
	pool *idPool

	seen    map[string]int64   // key → mod revision read (0: absent)
	recs    map[string]Account // id → the account as etcd holds it
	nameIDs map[string]string  // name key → the id it holds, as read

	puts    map[string]Account
	order   []string
	names   map[string]string // folded name → id, of puts
	removes map[string]bool

	cons     []Consumer
	consOrig []Consumer       // as read
	consSeen map[string]int64 // hash → mod revision
	consRev  int64            // the revision the consumers were read at
	consRead bool
	consSet  bool
}

// idPool hands the same new ids to every attempt of one update, so that
// a change retried after a conflict (or written in several transactions)
// does not make an account twice under two ids.
type idPool struct {
	ids     []string
	written map[string]bool // ids this update has written already
}

func (s *etcdStore) newTx(ctx context.Context, pool *idPool) *etcdTx {
	return &etcdTx{s: s, ctx: ctx, pool: pool, seen: map[string]int64{}, recs: map[string]Account{},
		nameIDs: map[string]string{}, puts: map[string]Account{}, names: map[string]string{}, removes: map[string]bool{}}
}

// read reads the account with id from etcd (once per change).
func (t *etcdTx) read(id string) (Account, bool, error) {
	key := t.s.accountKey(id)
	if _, done := t.seen[key]; done {
		a, ok := t.recs[id]
		return a, ok, nil
	}
	kv, err := t.s.getKV(t.ctx, key)
	if err != nil {
		return Account{}, false, err
	}
	if kv == nil {
		t.seen[key] = 0
		return Account{}, false, nil
	}
	a, err := t.s.decodeAccount(kv)
	if err != nil {
		return Account{}, false, err
	}
	t.seen[key], t.recs[id] = kv.ModRevision, a
	return a, true, nil
}

func (t *etcdTx) get(id string) (Account, bool, error) {
	if a, ok := t.puts[id]; ok {
		return a, true, nil
	}
	if t.removes[id] || !ValidID(id) {
		return Account{}, false, nil
	}
	a, ok, err := t.read(id)
	if err != nil {
		return Account{}, false, err
	}
	a, ok = t.s.local.overRecovery(id, a, ok)
	return a, ok, nil
}

// readName reads the id a name key holds ("" for none), once per change.
func (t *etcdTx) readName(nk string) (string, error) {
	if _, done := t.seen[nk]; done {
		return t.nameIDs[nk], nil
	}
	kv, err := t.s.getKV(t.ctx, nk)
	if err != nil {
		return "", err
	}
	t.seen[nk] = 0
	if kv != nil {
		t.seen[nk], t.nameIDs[nk] = kv.ModRevision, string(kv.Value)
	}
	return t.nameIDs[nk], nil
}

func (t *etcdTx) byName(name string) (Account, bool, error) {
	if id, ok := t.names[foldName(name)]; ok {
		if a, ok := t.puts[id]; ok && strings.EqualFold(a.Name, name) {
			return a, true, nil
		}
	}
	id, err := t.readName(t.s.nameKey(name))
	if err != nil || id == "" {
		return Account{}, false, err
	}
	a, ok, err := t.get(id)
	if err != nil || !ok || !strings.EqualFold(a.Name, name) {
		return Account{}, false, err
	}
	return a, true, nil
}

func (t *etcdTx) all() ([]Account, error) {
	snap, err := t.s.load(t.ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Account, 0, len(snap.Accounts)+len(t.order))
	for _, a := range snap.Accounts {
		if t.removes[a.ID] {
			continue
		}
		if p, ok := t.puts[a.ID]; ok {
			a = p
		}
		out = append(out, a)
	}
	for _, id := range t.order {
		if snap.Find(id) == nil {
			out = append(out, t.puts[id])
		}
	}
	return out, nil
}

func (t *etcdTx) put(a Account) {
	if old, ok := t.puts[a.ID]; !ok {
		t.order = append(t.order, a.ID)
	} else if t.names[foldName(old.Name)] == a.ID {
		delete(t.names, foldName(old.Name))
	}
	t.puts[a.ID] = a
	t.names[foldName(a.Name)] = a.ID
	delete(t.removes, a.ID)
}

func (t *etcdTx) remove(id string) {
	if old, ok := t.puts[id]; ok {
		delete(t.puts, id)
		delete(t.names, foldName(old.Name))
		t.order = slices.DeleteFunc(t.order, func(x string) bool { return x == id })
	}
	t.removes[id] = true
}

func (t *etcdTx) consumers() ([]Consumer, error) {
	if !t.consRead {
		var resp *clientv3.GetResponse
		err := t.s.call(t.ctx, func(c context.Context, cli *clientv3.Client) (err error) {
			resp, err = cli.Get(c, t.s.consumersPrefix(), clientv3.WithPrefix())
			return err
		})
		if err != nil {
			return nil, err
		}
		t.consSeen = map[string]int64{}
		for _, kv := range resp.Kvs {
			c, err := t.s.decodeConsumer(kv)
			if err != nil {
				return nil, err
			}
			t.cons = append(t.cons, c)
			t.consSeen[c.Hash] = kv.ModRevision
		}
		sortConsumers(t.cons)
		t.consOrig = slices.Clone(t.cons)
		t.consRev, t.consRead = resp.Header.Revision, true
	}
	return slices.Clone(t.cons), nil
}

func (t *etcdTx) setConsumers(c []Consumer) { t.cons, t.consSet = c, true }

func (t *etcdTx) newID() string {
	for i := 0; ; i++ {
		if i == len(t.pool.ids) {
			t.pool.ids = append(t.pool.ids, randomID())
		}
		id := t.pool.ids[i]
		if _, taken := t.puts[id]; taken || t.removes[id] {
			continue
		}
		if _, exists, err := t.read(id); err == nil && (!exists || t.pool.written[id]) {
			t.pool.ids = slices.Delete(t.pool.ids, i, i+1)
			return id
		}
		t.pool.ids[i] = randomID() // taken by another account (or unreadable): draw again
		i--
	}
}

func (t *etcdTx) changed() bool { return len(t.puts) > 0 || len(t.removes) > 0 || t.consSet }

// txnUnit is what one account or consumer adds to a transaction.
type txnUnit struct {
	cmps []clientv3.Cmp
	ops  []clientv3.Op
	id   string // the account written, if any
}

// units turns the change into the comparisons and operations that write
// it, one unit per account or consumer.
func (t *etcdTx) units() ([]txnUnit, error) {
	s := t.s
	var out []txnUnit
	nameUnit := func(u *txnUnit, nk, id string, del bool) error {
		holder, err := t.readName(nk)
		if err != nil {
			return err
		}
		if del && holder != id {
			return nil // the name is another account's now
		}
		u.cmps = append(u.cmps, clientv3.Compare(clientv3.ModRevision(nk), "=", t.seen[nk]))
		if del {
			u.ops = append(u.ops, clientv3.OpDelete(nk))
		} else {
			u.ops = append(u.ops, clientv3.OpPut(nk, id))
		}
		return nil
	}
	for _, id := range t.order {
		a := t.puts[id]
		old, existed, err := t.read(id)
		if err != nil {
			return nil, err
		}
		val, err := s.encodeAccount(a)
		if err != nil {
			return nil, err
		}
		key := s.accountKey(id)
		u := txnUnit{id: id, cmps: []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", t.seen[key])},
			ops: []clientv3.Op{clientv3.OpPut(key, val)}}
		if !existed || foldName(old.Name) != foldName(a.Name) {
			nk := s.nameKey(a.Name)
			if holder, err := t.readName(nk); err != nil {
				return nil, err
			} else if holder != "" && holder != id {
				if other, ok, err := t.get(holder); err != nil || (ok && strings.EqualFold(other.Name, a.Name)) {
					return nil, cmpErr(err, fmt.Errorf("%w: an account named %q already exists; choose another name or remove it first", ErrNameTaken, a.Name))
				}
			}
			if err := nameUnit(&u, nk, id, false); err != nil {
				return nil, err
			}
			if existed {
				if err := nameUnit(&u, s.nameKey(old.Name), id, true); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, s.fenced(u, id))
	}
	for id := range t.removes {
		old, existed, err := t.read(id)
		if err != nil {
			return nil, err
		}
		key := s.accountKey(id)
		u := txnUnit{cmps: []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", t.seen[key])},
			ops: []clientv3.Op{clientv3.OpDelete(key)}}
		if existed {
			if err := nameUnit(&u, s.nameKey(old.Name), id, true); err != nil {
				return nil, err
			}
		}
		out = append(out, s.fenced(u, id))
	}
	return append(out, t.consumerUnits()...), nil
}

// consumerUnits writes the consumers that changed. The first unit also
// checks that no consumer was added or changed since they were read (a
// consumer added elsewhere may have taken a name this change adds).
func (t *etcdTx) consumerUnits() []txnUnit {
	if !t.consSet {
		return nil
	}
	s := t.s
	guard := txnUnit{cmps: []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(s.consumersPrefix()), "<", t.consRev+1).WithPrefix()}}
	out := []txnUnit{guard}
	keep := map[string]bool{}
	old := map[string]Consumer{}
	for _, c := range t.cons {
		keep[c.Hash] = true
	}
	for _, c := range t.consOrig {
		old[c.Hash] = c
	}
	for _, c := range t.cons {
		if o, ok := old[c.Hash]; ok && sameJSON(o, c) {
			continue
		}
		k := s.consumersPrefix() + c.Hash
		out = append(out, txnUnit{cmps: []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(k), "=", t.consSeen[c.Hash])},
			ops: []clientv3.Op{clientv3.OpPut(k, encodeConsumer(c))}})
	}
	for h := range old {
		if !keep[h] {
			k := s.consumersPrefix() + h
			out = append(out, txnUnit{cmps: []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(k), "=", t.consSeen[h])},
				ops: []clientv3.Op{clientv3.OpDelete(k)}})
		}
	}
	return out
}

// fenced adds to u the check that this process still holds the lock of
// the account id, when it holds it: a holder whose lease ran out (cut
// off from etcd for longer than its TTL) writes nothing.
func (s *etcdStore) fenced(u txnUnit, id string) txnUnit {
	s.mu.Lock()
	mu := s.held[id]
	s.mu.Unlock()
	if mu != nil {
		u.cmps = append(u.cmps, mu.IsOwner())
	}
	return u
}

// metaCmps check the store's meta: unchanged since this process checked
// it, or, for a new store, still absent (and then written).
func (s *etcdStore) metaCmps() ([]clientv3.Cmp, []clientv3.Op) {
	s.mu.Lock()
	rev := s.metaRev
	s.mu.Unlock()
	if rev == 0 {
		return []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(s.metaKey()), "=", 0)},
			[]clientv3.Op{clientv3.OpPut(s.metaKey(), s.newMeta().encode())}
	}
	return []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(s.metaKey()), "=", rev)}, nil
}

// commit writes the change in as few transactions as etcd takes. It
// reports false when a key it read changed meanwhile.
func (t *etcdTx) commit() (bool, error) {
	units, err := t.units()
	if err != nil {
		return false, err
	}
	for len(units) > 0 {
		cmps, ops := t.s.metaCmps()
		n := 0
		for n < len(units) && (n == 0 || len(cmps)+len(units[n].cmps) <= etcdMaxTxnOps && len(ops)+len(units[n].ops) <= etcdMaxTxnOps) {
			cmps, ops = append(cmps, units[n].cmps...), append(ops, units[n].ops...)
			n++
		}
		var resp *clientv3.TxnResponse
		err := t.s.call(t.ctx, func(c context.Context, cli *clientv3.Client) (err error) {
			resp, err = cli.Txn(c).If(cmps...).Then(ops...).Commit()
			return err
		})
		if err != nil {
			return false, err
		}
		if !resp.Succeeded {
			return false, nil
		}
		t.s.wrote(resp.Header.Revision)
		for _, u := range units[:n] {
			if u.id != "" {
				t.pool.written[u.id] = true
			}
		}
		units = units[n:]
	}
	return true, nil
}

// wrote notes a write of this process at revision rev: a store it
// created has its meta at rev.
func (s *etcdStore) wrote(rev int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.metaRev == 0 {
		s.metaRev = rev
	}
}

// update runs fn and writes what it changed, running it again on what is
// there now when another writer changed a key it read meanwhile.
func (s *etcdStore) update(ctx context.Context, fn func(tx) error) error {
	pool := &idPool{written: map[string]bool{}}
	for attempt := range 10 {
		if err := s.settleMeta(ctx); err != nil {
			return err
		}
		t := s.newTx(ctx, pool)
		if err := fn(t); err != nil {
			return err
		}
		if !t.changed() {
			return nil
		}
		// A removed account's recovery files on this machine are marked
		// before etcd forgets it, so that no crash can bring it back.
		marked, err := s.markRemoving(t.removes)
		done := false
		if err == nil {
			done, err = t.commit()
		}
		if err == nil && !done {
			// Lost to another writer: nothing was removed. After an error
			// the outcome is unknown, and the tombstones stay: they are
			// harmless while etcd still holds the account.
			for _, id := range marked {
				_ = os.Remove(s.local.tombstonePath(id))
			}
		}
		if err != nil {
			return err
		}
		if done {
			for _, id := range t.order {
				s.local.dropRecovery(t.puts[id])
			}
			for id := range t.removes {
				s.local.finishRemoval(id)
			}
			s.mergeRecovery(ctx)
			return nil
		}
		s.mu.Lock()
		s.metaRev = -1 // read the meta again: a rekey may be what changed
		s.mu.Unlock()
		time.Sleep(time.Duration(rand.IntN(10*(attempt+1))) * time.Millisecond)
	}
	return fmt.Errorf("the store %s kept changing while keyfob wrote to it; try again", s.loc)
}

// settleMeta reads the meta again when the last write created the store
// or lost to a change: the next write compares its revision.
func (s *etcdStore) settleMeta(ctx context.Context) error {
	s.mu.Lock()
	stale := s.metaRev < 0
	s.mu.Unlock()
	if !stale {
		return nil
	}
	_, rev, err := s.inspect(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.metaRev = rev
	s.mu.Unlock()
	return nil
}

var errCASLost = errors.New("the account changed in etcd while it was being refreshed, or its lock was lost")
