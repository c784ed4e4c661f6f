package accounts

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// fileTx is a change of a file store under its store lock: reads see the
// store with the change so far, and commit writes it.
type fileTx struct {
	s         *fileStore
	puts      map[string]Account // by id, the accounts to write
	names     map[string]string  // folded name → id, of puts
	order     []string           // ids of puts, in order
	removes   map[string]bool
	cons      []Consumer
	consRead  bool
	consSet   bool
	consRev   int64
	snap      *Snapshot // the whole store, read once when needed
	removedBy []Account // accounts removed, as they were
}

func (t *fileTx) get(id string) (Account, bool, error) {
	if a, ok := t.puts[id]; ok {
		return a, true, nil
	}
	if t.removes[id] {
		return Account{}, false, nil
	}
	a, err := t.s.account(id)
	if errors.Is(err, ErrNotFound) {
		return Account{}, false, nil
	}
	return a, err == nil, err
}

func (t *fileTx) byName(name string) (Account, bool, error) {
	if id, ok := t.names[foldName(name)]; ok {
		if a, ok := t.puts[id]; ok && strings.EqualFold(a.Name, name) {
			return a, true, nil
		}
	}
	a, ok, err := t.s.named(name)
	if err != nil || !ok {
		return a, ok, err
	}
	if t.removes[a.ID] {
		return Account{}, false, nil
	}
	if p, changed := t.puts[a.ID]; changed && !strings.EqualFold(p.Name, name) {
		return Account{}, false, nil // renamed in this change
	}
	return a, true, nil
}

func (t *fileTx) all() ([]Account, error) {
	if t.snap == nil {
		snap, err := t.s.loadAll()
		if err != nil {
			return nil, err
		}
		t.snap = snap
	}
	out := make([]Account, 0, len(t.snap.Accounts)+len(t.order))
	for _, a := range t.snap.Accounts {
		if t.removes[a.ID] {
			continue
		}
		if p, ok := t.puts[a.ID]; ok {
			a = p
		}
		out = append(out, a)
	}
	for _, id := range t.order {
		if t.snap.Find(id) == nil {
			out = append(out, t.puts[id])
		}
	}
	return out, nil
}

func (t *fileTx) put(a Account) {
	if old, ok := t.puts[a.ID]; !ok {
		t.order = append(t.order, a.ID)
	} else if t.names[foldName(old.Name)] == a.ID {
		delete(t.names, foldName(old.Name))
	}
	t.puts[a.ID] = a
	if t.names == nil {
		t.names = map[string]string{}
	}
	t.names[foldName(a.Name)] = a.ID
	delete(t.removes, a.ID)
}

func (t *fileTx) remove(id string) {
	if old, ok := t.puts[id]; ok {
		delete(t.puts, id)
		delete(t.names, foldName(old.Name))
		t.order = slices.DeleteFunc(t.order, func(x string) bool { return x == id })
	}
	t.removes[id] = true
}

func (t *fileTx) consumers() ([]Consumer, error) {
	if !t.consRead {
		c, rev, err := t.s.readConsumers()
		if err != nil {
			return nil, err
		}
		t.cons, t.consRev, t.consRead = c, rev, true
	}
	return slices.Clone(t.cons), nil
}

func (t *fileTx) setConsumers(c []Consumer) {
	t.cons, t.consSet = c, true
}

func (t *fileTx) newID() string {
	for {
		id := randomID()
		if _, err := os.Lstat(t.s.recordPath(id)); errors.Is(err, fs.ErrNotExist) {
			if _, taken := t.puts[id]; !taken && !t.removes[id] {
				return id
			}
		}
	}
}

// update runs fn on the store under the store lock and writes what it
// changed. The caller holds the lock of every existing account fn writes
// or removes. If fn fails nothing is written.
func (s *fileStore) update(ctx context.Context, fn func(tx) error) error {
	if _, err := s.upgrade(ctx); err != nil {
		return err
	}
	if err := s.ensureDir(); err != nil {
		return err
	}
	unlock, err := s.lock(ctx, s.path(lockFile), "the account store")
	if err != nil {
		return err
	}
	defer unlock()
	st, _, err := s.state()
	if err != nil {
		return err
	}
	if st == stateOld {
		return fmt.Errorf("the account store %s changed to an older format while keyfob waited for it; run the command again", s.path(StoreFile))
	}
	t := &fileTx{s: s, puts: map[string]Account{}, removes: map[string]bool{}}
	if err := fn(t); err != nil {
		return err
	}
	if len(t.puts) == 0 && len(t.removes) == 0 && !t.consSet {
		return nil
	}
	if st == stateEmpty {
		if err := s.create(); err != nil {
			return err
		}
	}
	if err := t.commit(); err != nil {
		return err
	}
	s.removeTemporaries()
	s.mergeRecovery(t)
	return nil
}

// removeTemporaries deletes the temporary files that a writer killed
// between creating and renaming one left behind for the files written
// under the store lock (the marker, the consumers, backups, the name
// index; renameio names them ".NAME" and digits): under the lock every one
// of them is stale.
// (A record's temporary file has a fixed name, which its next writer
// clears: see recordTemp.)
func (s *fileStore) removeTemporaries() {
	for _, dir := range []string{s.dir, s.path(namesDir)} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), ".")
			if !ok || !e.Type().IsRegular() {
				continue
			}
			base := strings.TrimRight(name, "0123456789")
			ours := dir != s.dir || base == StoreFile || base == consumersFile || strings.HasPrefix(base, StoreFile+".bak-v")
			if base != name && ours {
				_ = os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
}

// mergeRecovery takes the accounts of recovery files back into their
// records after a successful write, as far as it can without waiting: an
// account being refreshed (its lock is taken) is left to that refresh,
// which merges its recovery file itself. The caller holds the store lock.
func (s *fileStore) mergeRecovery(t *fileTx) {
	for _, r := range s.allRecovery() {
		id := r.acct.ID
		if t.removes[id] {
			continue
		}
		unlock, ok := s.tryLockAccount(id)
		if !ok {
			continue
		}
		s.mergeOne(r)
		unlock()
	}
}

// mergeOne writes the account of recovery file r into its record when it
// holds a later rotation (adding the account, under a free name, when only
// the recovery file has it), and removes the file once the record holds
// it. The caller holds the store lock and the account's lock.
func (s *fileStore) mergeOne(r recovered) {
	cur, err := s.readRecord(r.acct.ID)
	switch {
	case errors.Is(err, fs.ErrNotExist) && s.removing(r.acct.ID):
		s.finishRemoval(r.acct.ID) // a removal that a crash cut short
	case errors.Is(err, fs.ErrNotExist):
		a := r.acct
		if ValidateName(a.Name) != nil {
			a.Name = defaultName(a)
		}
		tx := &fileTx{s: s, puts: map[string]Account{}, removes: map[string]bool{}}
		name, err := uniqueNameFor(tx, a.Name, a.ID)
		if err != nil {
			return
		}
		a.Name, a.Revision = name, 0
		tx.put(a)
		if err := tx.commit(); err == nil {
			s.noticef("the account %q, kept in a recovery file after a failed save, is back in %s", a.Name, s.dir)
		}
	case err != nil:
		return
	case newerRotation(r.acct, cur):
		a := takeRecovered(cur, r.acct, false)
		a.Revision = cur.Revision + 1
		if s.writeRecord(a) == nil && s.syncDir(s.path(recordsDir), nil) == nil {
			s.noticef("the new refresh token of %q, kept in a recovery file after a failed save, is back in %s", a.Name, s.dir)
		}
	default:
		s.dropRecovery(cur)
	}
}

// commit writes the change. Names enter the index before their records
// and leave it after them, so the index never misses a name (see
// nameindex.go); consumers of removed accounts go before the accounts.
func (t *fileTx) commit() error {
	s := t.s
	if t.consSet {
		if err := s.writeConsumers(t.cons, t.consRev+1); err != nil {
			return err
		}
	}
	var adds, drops []indexEntry
	olds := make(map[string]Account, len(t.order))
	for _, id := range t.order {
		a := t.puts[id]
		old, err := s.readRecord(id)
		if err == nil {
			olds[id] = old
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err != nil || foldName(old.Name) != foldName(a.Name) {
			adds = append(adds, indexEntry{foldName(a.Name), id})
			if err == nil {
				drops = append(drops, indexEntry{foldName(old.Name), id})
			}
		}
	}
	if err := s.changeIndex(adds, nil); err != nil {
		return err
	}
	written := make([]Account, len(t.order))
	for i, id := range t.order {
		written[i] = t.puts[id]
		written[i].Revision = olds[id].Revision + 1
	}
	if err := s.writeRecords(written); err != nil {
		return err
	}
	for id := range t.removes {
		old, err := s.readRecord(id)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := s.removeRecord(id); err != nil {
			return err
		}
		if err == nil {
			drops = append(drops, indexEntry{foldName(old.Name), id})
			t.removedBy = append(t.removedBy, old)
		}
	}
	if len(t.order) > 0 || len(t.removes) > 0 {
		if err := s.syncDir(s.path(recordsDir), nil); err != nil {
			return err
		}
	}
	if err := s.changeIndex(nil, drops); err != nil {
		s.noticef("the name index could not be tidied (%v); it will be on a later change", err)
	}
	for _, a := range t.removedBy {
		s.scrubBackups(a.ID)
	}
	return nil
}

// writeRecord writes a's record (the directory is synced by the caller)
// and removes the recovery files it supersedes.
func (s *fileStore) writeRecord(a Account) error {
	data, err := encodeRecord(a, a.Revision)
	if err != nil {
		return err
	}
	path := s.recordPath(a.ID)
	if err := refuseLink(path); err != nil {
		return err
	}
	t, err := s.createTemp(path)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer t.cleanup()
	if err := s.fault(stepWrite, path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if _, err := t.Write(data); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := s.replace(t, path); err != nil {
		return err
	}
	s.dropRecovery(a)
	return nil
}

// bulkWrites is how many records a change writes before it syncs them all
// at once rather than one by one.
const bulkWrites = 64

// writeRecords writes the records of accts (the directory is synced by
// the caller). Many at once (a demo's or a fleet's accounts put in one go)
// are written to their temporary files first, synced together, then
// renamed into place: every record is still synced before it replaces the
// old one, at the cost of one sync instead of thousands.
func (s *fileStore) writeRecords(accts []Account) error {
	if len(accts) <= bulkWrites {
		for _, a := range accts {
			if err := s.writeRecord(a); err != nil {
				return err
			}
		}
		return nil
	}
	temps := make([]string, len(accts))
	defer func() {
		for _, tmp := range temps {
			if tmp != "" {
				_ = os.Remove(tmp)
			}
		}
	}()
	err := writeAll(len(accts), func(i int) error {
		path := s.recordPath(accts[i].ID)
		if err := refuseLink(path); err != nil {
			return err
		}
		data, err := encodeRecord(accts[i], accts[i].Revision)
		if err != nil {
			return err
		}
		tmp := recordTemp(path)
		if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		temps[i] = tmp
		if err := createSynced(tmp, data, false); err != nil {
			return fmt.Errorf("cannot write %s: %w", path, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := syncTree(s.path(recordsDir)); err != nil {
		return fmt.Errorf("cannot sync %s: %w", s.path(recordsDir), err)
	}
	for i, a := range accts {
		path := s.recordPath(a.ID)
		if err := rename(temps[i], path); err != nil {
			return fmt.Errorf("cannot write %s: %w", path, err)
		}
		temps[i] = ""
		s.dropRecovery(a)
	}
	return nil
}

// changeIndex adds and drops lines of the name index, one shard write per
// shard touched.
func (s *fileStore) changeIndex(adds, drops []indexEntry) error {
	if len(adds) == 0 && len(drops) == 0 {
		return nil
	}
	byShard := map[string][2][]indexEntry{}
	for _, e := range adds {
		v := byShard[shardOf(e.key)]
		v[0] = append(v[0], e)
		byShard[shardOf(e.key)] = v
	}
	for _, e := range drops {
		v := byShard[shardOf(e.key)]
		v[1] = append(v[1], e)
		byShard[shardOf(e.key)] = v
	}
	if err := s.mkdir(s.path(namesDir)); err != nil {
		return err
	}
	for shard, v := range byShard {
		path := s.path(namesDir, shard)
		entries, err := readShard(path)
		if err != nil {
			return fmt.Errorf("cannot read the name index %s: %w", path, err)
		}
		entries = slices.DeleteFunc(entries, func(e indexEntry) bool { return slices.Contains(v[1], e) })
		entries = append(entries, v[0]...)
		if err := s.write(path, encodeShard(entries)); err != nil {
			return err
		}
	}
	return nil
}
