package accounts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A rotated refresh token that the store cannot take (a full disk, a
// read-only file system) goes to a recovery file, recovery/ID.json beside
// the records, or, when that directory cannot be written either, under
// $XDG_STATE_HOME/keyfob. Reads lay a recovery file over the record when
// it holds a later rotation (see newerRotation); the next successful write
// of the account's record removes it. Recovery files of an account are
// written under the account's lock, like its record.

// recovered is an account a recovery file holds, and the file as read.
type recovered struct {
	path string
	info fs.FileInfo
	acct Account
}

// recoveryDirs lists where recovery files may be, in the order they are
// tried.
func (s *fileStore) recoveryDirs() []string {
	return []string{s.path(recoveryDir), filepath.Join(s.stateDir(), recoveryDir)}
}

// readRecovered reads the recovery file at path for id. A file that cannot
// be read or decoded is said once and left alone: it may hold tokens too.
// A look that finds none needs no file descriptor.
func (s *fileStore) readRecovered(path, id string) (recovered, bool) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return recovered{}, false
	}
	data, fi, err := readNoFollow(path)
	if errors.Is(err, fs.ErrNotExist) {
		return recovered{}, false
	}
	if err != nil {
		s.noticef("cannot read the recovery file %s (%v); keyfob leaves it alone — fix or move it", path, err)
		return recovered{}, false
	}
	a, _, err := decodeRecord(path, id, data)
	if err != nil {
		s.noticef("ignoring the unreadable recovery file %s: %v", path, err)
		return recovered{}, false
	}
	return recovered{path: path, info: fi, acct: a}, true
}

// recoveryFor returns the recovery files of the account with id.
func (s *fileStore) recoveryFor(id string) []recovered {
	var out []recovered
	for _, dir := range s.recoveryDirs() {
		if r, ok := s.readRecovered(filepath.Join(dir, id+".json"), id); ok {
			out = append(out, r)
		}
	}
	return out
}

// allRecovery returns every recovery file's account.
func (s *fileStore) allRecovery() []recovered {
	var out []recovered
	for _, dir := range s.recoveryDirs() {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if id, ok := strings.CutSuffix(e.Name(), ".json"); ok && ValidID(id) {
				if r, ok := s.readRecovered(filepath.Join(dir, e.Name()), id); ok {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

// newerRotation reports whether rec holds a later refresh token than cur:
// a higher rotation count, or, between copies that count the same (or from
// before the count existed), a different refresh token obtained later.
// The access token's time never decides: it says nothing of the refresh
// token, and a clock step would make it lie.
func newerRotation(rec, cur Account) bool {
	if rec.Rotation != cur.Rotation {
		return rec.Rotation > cur.Rotation
	}
	return rec.RefreshToken != cur.RefreshToken && rec.RefreshObtainedAt.After(cur.RefreshObtainedAt)
}

// overRecovery lays the recovery files of the account with id over a,
// the store's copy (found: the store has one), and reports whether there
// is an account: a recovery file alone holds one, unless the account's
// removal began (see removing).
func (s *fileStore) overRecovery(id string, a Account, found bool) (Account, bool) {
	for _, r := range s.recoveryFor(id) {
		if !found && s.removing(id) {
			break
		}
		if !found || newerRotation(r.acct, a) {
			a, found = takeRecovered(a, r.acct, !found), true
		}
	}
	return a, found
}

// takeRecovered is the account once the recovery copy rec is laid over the
// stored one (missing: there is none, and its Revision is 0, so that its
// next refresh or edit writes its record first): everything from rec but
// the name the store gives it and the record's revision.
func takeRecovered(cur, rec Account, missing bool) Account {
	if missing {
		rec.Revision = 0
		return rec
	}
	rec.Name, rec.Revision = cur.Name, cur.Revision
	return rec
}

// saveRecovery writes a to the first recovery file that can take it and
// returns its path. A recovery file of the account that cannot be read is
// never written over (it stays as it is, byte for byte); the next place is
// tried. The caller holds the account's lock.
func (s *fileStore) saveRecovery(a Account) (string, error) {
	data, err := encodeRecord(a, a.Revision)
	if err != nil {
		return "", err
	}
	var errs []error
	for _, dir := range s.recoveryDirs() {
		p := filepath.Join(dir, a.ID+".json")
		if err := s.saveRecoveryAt(p, a.ID, data); err != nil {
			errs = append(errs, err)
			continue
		}
		return p, nil
	}
	return "", errors.Join(errs...)
}

func (s *fileStore) saveRecoveryAt(p, id string, data []byte) error {
	old, _, err := readNoFollow(p)
	switch {
	case err == nil:
		if _, _, err := decodeRecord(p, id, old); err != nil {
			return fmt.Errorf("the recovery file %s cannot be read, so keyfob does not write over it: %w", p, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot read the recovery file %s: %w", p, err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %w", filepath.Dir(p), err)
	}
	return s.write(p, data)
}

// dropRecovery removes the recovery files of written's account that hold
// no later rotation than written, once it is in its record. Files that
// changed since they were read are kept for the next time.
func (s *fileStore) dropRecovery(written Account) {
	for _, r := range s.recoveryFor(written.ID) {
		if newerRotation(r.acct, written) {
			continue
		}
		if fi, err := os.Lstat(r.path); err == nil && os.SameFile(fi, r.info) && fi.ModTime().Equal(r.info.ModTime()) {
			_ = os.Remove(r.path)
		}
	}
}
