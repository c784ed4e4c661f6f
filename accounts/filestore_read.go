package accounts

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// readRecord reads the record of the account with id, as stored (no
// recovery file laid over it). A missing record is fs.ErrNotExist.
func (s *fileStore) readRecord(id string) (Account, error) {
	path := s.recordPath(id)
	data, _, err := readNoFollow(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.As(err, new(*SymlinkError)) {
			return Account{}, err
		}
		return Account{}, fmt.Errorf("cannot read the account record %s: %w; check its permissions", path, err)
	}
	a, _, err := decodeRecord(path, id, data)
	return a, err
}

// account reads the account with id, with a newer unsaved rotation from a
// recovery file laid over it. An account that only a recovery file holds
// (a login whose save failed) is found too.
func (s *fileStore) account(id string) (Account, error) {
	if !ValidID(id) {
		return Account{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	a, err := s.readRecord(id)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return Account{}, err
	}
	a, found := s.overRecovery(id, a, !missing)
	if !found {
		return Account{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return a, nil
}

// named finds the account named name (case-insensitively) through the
// name index. ok is false when none is, as far as the index knows.
func (s *fileStore) named(name string) (Account, bool, error) {
	key := foldName(name)
	entries, err := readShard(s.path(namesDir, shardOf(key)))
	if err != nil {
		return Account{}, false, fmt.Errorf("cannot read the name index of %s: %w", s.dir, err)
	}
	var unreadable error
	for _, id := range lookupShard(entries, key) {
		a, err := s.account(id)
		if errors.Is(err, ErrNotFound) {
			continue // a line left by a crash
		}
		if err != nil {
			// Another account the name once pointed at (a line left by a
			// rename) may be the broken one: look on, and say so only
			// when no account has the name.
			unreadable = cmp.Or(unreadable, err)
			continue
		}
		if strings.EqualFold(a.Name, name) {
			return a, true, nil
		}
	}
	return Account{}, false, unreadable
}

// listIDs lists the ids of the records (at most limit of them when limit > 0).
func (s *fileStore) listIDs(limit int) ([]string, error) {
	ids, _, err := s.listRecords(limit)
	return ids, err
}

// listRecords lists the ids of the records (at most limit of them when
// limit > 0), and the ids whose record has a temporary file (recordTemp).
func (s *fileStore) listRecords(limit int) (ids, temps []string, err error) {
	d, err := openNoFollow(s.path(recordsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the account records in %s: %w", s.path(recordsDir), err)
	}
	defer d.Close()
	for {
		names, err := d.Readdirnames(256)
		for _, n := range names {
			if id, ok := strings.CutSuffix(n, ".json"); ok && ValidID(id) {
				ids = append(ids, id)
			} else if tmp, ok := strings.CutPrefix(n, "."); ok {
				if id, ok := strings.CutSuffix(tmp, ".json.tmp"); ok && ValidID(id) {
					temps = append(temps, id)
				}
			}
		}
		if limit > 0 && len(ids) >= limit {
			return ids[:limit], temps, nil
		}
		if err == io.EOF {
			return ids, temps, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read the account records in %s: %w", s.path(recordsDir), err)
		}
	}
}

// removeOrphanTemps removes the temporary files of records that do not
// exist: what a writer killed while adding an account left, tokens and
// all, which no later writer of that account would clear (it has none).
// A record's temporary file is written only by a holder of the
// account's lock or of the store's (which adds accounts), so with both
// taken without waiting, a temporary file of a missing record is nobody's.
func (s *fileStore) removeOrphanTemps(ids, temps []string) {
	var orphans []string
	for _, id := range temps {
		if !slices.Contains(ids, id) {
			orphans = append(orphans, id)
		}
	}
	if len(orphans) == 0 {
		return
	}
	unlockStore, ok := s.tryLock(s.path(lockFile))
	if !ok {
		return
	}
	defer unlockStore()
	for _, id := range orphans {
		unlock, ok := s.tryLockAccount(id)
		if !ok {
			continue
		}
		path := s.recordPath(id)
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			_ = os.Remove(recordTemp(path))
		}
		unlock()
	}
}

// loadAll reads every account and consumer. Records are decoded on every
// core; a corrupt one fails the load with its file, line and column.
func (s *fileStore) loadAll() (*Snapshot, error) {
	ids, temps, err := s.listRecords(0)
	if err != nil {
		return nil, err
	}
	s.removeOrphanTemps(ids, temps)
	accts := make([]Account, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), max(1, len(ids)/64))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(ids); i += workers {
				accts[i], errs[i] = s.readRecord(ids[i])
			}
		})
	}
	wg.Wait()
	kept := accts[:0]
	for i, err := range errs {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// removed while listing
		case err != nil:
			return nil, err
		default:
			kept = append(kept, accts[i])
		}
	}
	accts = s.layRecovery(kept)
	sortAccounts(accts)
	cons, _, err := s.readConsumers()
	if err != nil {
		return nil, err
	}
	return &Snapshot{Accounts: accts, Consumers: cons}, nil
}

// sortAccounts puts accounts in the order the faces list them: oldest
// first, as they were added.
func sortAccounts(accts []Account) {
	slices.SortFunc(accts, func(a, b Account) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// layRecovery lays the recovery files over accts: a newer rotation
// replaces the stored account (its name stays), an account only a recovery
// file holds is added.
func (s *fileStore) layRecovery(accts []Account) []Account {
	recs := s.allRecovery()
	if len(recs) == 0 {
		return accts
	}
	byID := make(map[string]int, len(accts))
	for i, a := range accts {
		byID[a.ID] = i
	}
	for _, r := range recs {
		i, ok := byID[r.acct.ID]
		switch {
		case !ok && s.removing(r.acct.ID):
		case !ok:
			byID[r.acct.ID] = len(accts)
			accts = append(accts, takeRecovered(Account{}, r.acct, true))
		case newerRotation(r.acct, accts[i]):
			accts[i] = takeRecovered(accts[i], r.acct, false)
		}
	}
	return accts
}

// Snapshot is every account and consumer of a store at one moment.
type Snapshot struct {
	Accounts  []Account
	Consumers []Consumer
}

// Find returns the account with id, or nil.
func (s *Snapshot) Find(id string) *Account {
	for i := range s.Accounts {
		if s.Accounts[i].ID == id {
			return &s.Accounts[i]
		}
	}
	return nil
}

// FindConsumer returns the consumer named name (case-insensitively), or nil.
func (s *Snapshot) FindConsumer(name string) *Consumer {
	for i := range s.Consumers {
		if strings.EqualFold(s.Consumers[i].Name, name) {
			return &s.Consumers[i]
		}
	}
	return nil
}

// ConsumersOf returns the consumers of the account with id.
func (s *Snapshot) ConsumersOf(id string) []Consumer {
	var out []Consumer
	for _, c := range s.Consumers {
		if c.AccountID == id {
			out = append(out, c)
		}
	}
	return out
}

// statRecord returns the identity of the record file of id, for the
// watcher.
func (s *fileStore) statRecord(id string) (os.FileInfo, error) {
	return os.Lstat(s.recordPath(id))
}
