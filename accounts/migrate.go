package accounts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// legacyFile is a store of version 1 or 2: one file, accounts.json,
// holding every account (and, in version 2, the consumers).
type legacyFile struct {
	Version   int        `json:"version"`
	Accounts  []Account  `json:"accounts"`
	Consumers []Consumer `json:"consumers"`
}

// decodeLegacy decodes and checks a version 1 or 2 store. path only
// names the file in errors.
func decodeLegacy(path string, data []byte) (*legacyFile, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var f struct {
		Version   *int       `json:"version"`
		Accounts  []Account  `json:"accounts"`
		Consumers []Consumer `json:"consumers"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, corrupt(path, data, err)
	}
	switch {
	case f.Version == nil:
		return nil, corrupt(path, data, errors.New(`the "version" field is missing`))
	case *f.Version > 2:
		return nil, corrupt(path, data, fmt.Errorf("version %d is not a one-file store", *f.Version))
	case *f.Version < 1:
		return nil, corrupt(path, data, fmt.Errorf("store version %d is not one keyfob wrote", *f.Version))
	}
	out := &legacyFile{Version: *f.Version, Accounts: f.Accounts, Consumers: f.Consumers}
	if err := out.check(); err != nil {
		return nil, corrupt(path, data, err)
	}
	return out, nil
}

// check rejects stores that decode but cannot be right: accounts without
// an id, with one keyfob did not make (files are named after ids, so
// "../x" would put one outside the directory), or sharing one.
func (f *legacyFile) check() error {
	seen := make(map[string]bool, len(f.Accounts))
	for i, a := range f.Accounts {
		switch {
		case a.ID == "":
			return fmt.Errorf("account %d has no id", i+1)
		case !ValidID(a.ID):
			return fmt.Errorf("account %d (%s) has the id %s, which keyfob did not make (its ids are %d lowercase hexadecimal digits)",
				i+1, quoteShort(a.Name, 40), quoteShort(a.ID, 40), idLen)
		case seen[a.ID]:
			return fmt.Errorf("two accounts share the id %q", a.ID)
		}
		seen[a.ID] = true
	}
	return checkConsumers(f.Consumers)
}

// The directories a migration builds before it puts them in place.
const (
	migratingRecords = ".records.migrating"
	migratingNames   = ".names.migrating"
)

// migrate turns a version 1 or 2 store into the current layout, under the
// store lock (which keyfob versions before 3 take for every write too, so
// that no older keyfob writes meanwhile). The old file is kept, byte for
// byte, as accounts.json.bak-vN. The new records and name index are built
// in directories of their own, synced, and put in place; the last step
// replaces accounts.json with the version 3 marker. A crash before that
// step leaves the old store, which the next run migrates again; after it,
// the new one, complete. An older keyfob then refuses the store (its
// version is newer than it knows) instead of starting an empty one.
func (s *fileStore) migrate(ctx context.Context) error {
	unlock, err := s.lock(ctx, s.path(lockFile), "the account store")
	if err != nil {
		return err
	}
	defer unlock()
	st, data, err := s.state()
	if err != nil || st != stateOld {
		return err // migrated by another process meanwhile, or unreadable
	}
	path := s.path(StoreFile)
	old, err := decodeLegacy(path, data)
	if err != nil {
		return err
	}
	legacy := s.readLegacyRecovery()
	mergeLegacy(old, legacy)
	bak := fmt.Sprintf("%s.bak-v%d", path, old.Version)
	if err := s.write(bak, data); err != nil {
		return fmt.Errorf("cannot keep a backup of the version %d store before upgrading it: %w", old.Version, err)
	}
	if err := s.buildRecords(old.Accounts); err != nil {
		return fmt.Errorf("cannot upgrade the account store %s: %w; it was left as it was", path, err)
	}
	if err := s.writeConsumers(old.Consumers, 1); err != nil {
		return err
	}
	for _, d := range []string{recoveryDir, locksDir} {
		if err := s.mkdir(s.path(d)); err != nil {
			return err
		}
	}
	if err := s.write(path, markerBytes()); err != nil {
		return err
	}
	for _, r := range legacy {
		r.removeUnchanged()
	}
	s.noticef("upgraded the account store in %s to version %d (one file per account); the old file is kept as %s",
		s.dir, CurrentVersion, bak)
	return nil
}

// buildRecords writes every account's record and the name index into
// directories of their own, syncs them, and puts them in place of any
// records/ and names/ an interrupted migration left.
func (s *fileStore) buildRecords(accts []Account) error {
	recs, names := s.path(migratingRecords), s.path(migratingNames)
	for _, d := range []string{recs, names} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
	}
	taken := map[string]bool{}
	shards := map[string][]indexEntry{}
	for i := range accts {
		a := &accts[i]
		if ValidateName(a.Name) != nil {
			a.Name = defaultName(*a)
		}
		base, name := a.Name, a.Name
		for n := 2; taken[foldName(name)]; n++ {
			name = numberedName(base, n)
		}
		a.Name = name
		taken[foldName(name)] = true
		key := foldName(name)
		shards[shardOf(key)] = append(shards[shardOf(key)], indexEntry{key, a.ID})
	}
	if err := writeAll(len(accts), func(i int) error {
		data, err := encodeRecord(accts[i], 1)
		if err != nil {
			return err
		}
		return createSynced(filepath.Join(recs, accts[i].ID+".json"), data, false)
	}); err != nil {
		return err
	}
	keys := make([]string, 0, len(shards))
	for k := range shards {
		keys = append(keys, k)
	}
	if err := writeAll(len(keys), func(i int) error {
		return createSynced(filepath.Join(names, keys[i]), encodeShard(shards[keys[i]]), false)
	}); err != nil {
		return err
	}
	if err := syncTree(recs, names); err != nil {
		return err
	}
	for _, p := range [][2]string{{recs, s.path(recordsDir)}, {names, s.path(namesDir)}} {
		if err := os.RemoveAll(p[1]); err != nil {
			return err
		}
		if err := rename(p[0], p[1]); err != nil {
			return err
		}
	}
	return syncDir(s.dir)
}

// writeAll runs write(0) … write(n-1) on a few goroutines and returns the
// first error.
func writeAll(n int, write func(i int) error) error {
	workers := min(max(runtime.GOMAXPROCS(0), 2), 8, max(n, 1))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += workers {
				errs[w] = write(i)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// createSynced creates path (0600, never through a link) with data, and
// fsyncs it when sync is set.
func createSynced(path string, data []byte, sync bool) error {
	f, err := openFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return err
		}
	}
	return f.Close()
}

// legacyRecovered is a recovery file of keyfob before version 3.
type legacyRecovered struct {
	path  string
	info  fs.FileInfo
	accts []Account
}

// removeUnchanged removes the file once its accounts are in the store,
// unless it changed since it was read: an older keyfob still running may
// have written a later refresh token to it meanwhile, which the next look
// takes in.
func (r legacyRecovered) removeUnchanged() {
	fi, err := os.Lstat(r.path)
	if err == nil && os.SameFile(fi, r.info) && fi.ModTime().Equal(r.info.ModTime()) && fi.Size() == r.info.Size() {
		_ = os.Remove(r.path)
	}
}

// legacyRecoveryPaths are where keyfob before version 3 wrote recovery
// files.
func (s *fileStore) legacyRecoveryPaths() []string {
	return []string{s.path(legacyRecovery), s.stateDir() + "-" + legacyRecovery}
}

// readLegacyRecovery reads the recovery files of keyfob before version 3.
// One that cannot be read is said and left alone.
func (s *fileStore) readLegacyRecovery() []legacyRecovered {
	var out []legacyRecovered
	for _, p := range s.legacyRecoveryPaths() {
		data, fi, err := readNoFollow(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		var f *legacyFile
		if err == nil {
			f, err = decodeLegacy(p, data)
		}
		if err != nil {
			s.noticef("ignoring the unreadable recovery file %s: %v", p, err)
			continue
		}
		out = append(out, legacyRecovered{path: p, info: fi, accts: f.Accounts})
	}
	return out
}

// mergeLegacy lays the accounts of old recovery files over f where they
// hold a later refresh token, and adds those f lacks.
func mergeLegacy(f *legacyFile, recs []legacyRecovered) {
	for _, r := range recs {
		for _, a := range r.accts {
			i := slices.IndexFunc(f.Accounts, func(x Account) bool { return x.ID == a.ID })
			switch {
			case i < 0:
				f.Accounts = append(f.Accounts, a)
			case newerRotation(a, f.Accounts[i]):
				f.Accounts[i] = takeRecovered(f.Accounts[i], a, false)
			}
		}
	}
}

// mergeLegacyRecovery takes in recovery files that a keyfob before
// version 3 wrote after the store was migrated (it was refreshing while
// the migration ran, and then found the store newer than it knows): each
// account is written under its lock when the file holds a later refresh
// token, and the file is removed once all of them are in.
func (s *fileStore) mergeLegacyRecovery(ctx context.Context) {
	recs := s.readLegacyRecovery()
	for _, r := range recs {
		ok := true
		for _, a := range r.accts {
			if err := s.adoptRecovered(ctx, a); err != nil {
				s.noticef("cannot take %q in from the recovery file %s yet: %v", a.Name, r.path, err)
				ok = false
			}
		}
		if ok {
			r.removeUnchanged()
		}
	}
}

// adoptRecovered writes a, from a recovery file, as its account's record
// when that holds an older refresh token or is missing.
func (s *fileStore) adoptRecovered(ctx context.Context, a Account) error {
	if !ValidID(a.ID) {
		return fmt.Errorf("its id %s is not one keyfob made", quoteShort(a.ID, 20))
	}
	unlock, err := s.lockAccount(ctx, a.ID, a.Name)
	if err != nil {
		return err
	}
	defer unlock()
	return s.update(ctx, func(t tx) error {
		cur, ok, err := t.get(a.ID)
		switch {
		case err != nil:
			return err
		case ok && !newerRotation(a, cur):
			return nil
		case ok:
			t.put(takeRecovered(cur, a, false))
			return nil
		}
		if ValidateName(a.Name) != nil {
			a.Name = defaultName(a)
		}
		a.Name, err = uniqueNameFor(t, a.Name, a.ID)
		if err != nil {
			return err
		}
		t.put(a)
		return nil
	})
}

// scrubBackups removes the secrets of the account with id from the
// backups of older store versions (accounts.json.bak-vN), which would
// otherwise keep a removed account's refresh token and client secret for
// good. A backup that cannot be read or written is said, not touched.
func (s *fileStore) scrubBackups(id string) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), StoreFile+".bak-v") {
			continue
		}
		p := s.path(e.Name())
		if err := s.scrubBackup(p, id); err != nil {
			s.noticef("the backup %s still holds the tokens of the removed account: %v; delete it if you no longer need it", p, err)
		}
	}
}

// secretFields are the fields of an account that hold secrets.
var secretFields = []string{"access_token", "refresh_token", "id_token", "client_secret", "auth_code"}

func (s *fileStore) scrubBackup(path, id string) error {
	data, _, err := readNoFollow(path)
	if err != nil {
		return err
	}
	if !bytes.Contains(data, []byte(`"`+id+`"`)) {
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return corrupt(path, data, err)
	}
	var accts []map[string]json.RawMessage
	if err := json.Unmarshal(raw["accounts"], &accts); err != nil {
		return corrupt(path, data, err)
	}
	changed := false
	for _, a := range accts {
		var aid string
		if json.Unmarshal(a["id"], &aid) != nil || aid != id {
			continue
		}
		for _, f := range secretFields {
			if _, ok := a[f]; ok {
				delete(a, f)
				changed = true
			}
		}
	}
	if !changed {
		return nil
	}
	if raw["accounts"], err = json.Marshal(accts); err != nil {
		return err
	}
	out, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return err
	}
	return s.write(path, append(out, '\n'))
}
