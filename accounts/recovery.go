package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/adrg/xdg"
)

// recoveryPaths lists where a recovery file may be: beside the store, or in
// the XDG state directory when the store's directory cannot be written.
// The second is named after the store's directory, so that a recovery file
// of one store (say the demo's) never ends up in another.
func (s *Store) recoveryPaths() []string {
	abs, err := filepath.Abs(s.dir)
	if err != nil {
		abs = s.dir
	}
	sum := sha256.Sum256([]byte(abs))
	return []string{
		filepath.Join(s.dir, RecoveryFile),
		filepath.Join(xdg.StateHome, "keyfob", hex.EncodeToString(sum[:6])+"-"+RecoveryFile),
	}
}

// recovery is what the recovery files hold: their accounts merged, and
// the files that were read, decoded and merged, as they were when read.
type recovery struct {
	file *File // nil when there was nothing to merge
	read []recoveryRead
}

type recoveryRead struct {
	path string
	info fs.FileInfo
}

// readRecovery merges every recovery file that can be read. A file that
// cannot be read or decoded is left out, said so, and never removed.
func (s *Store) readRecovery() recovery {
	var out recovery
	for _, p := range s.recoveryPaths() {
		data, fi, err := readNoFollow(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			s.notice("cannot read the recovery file %s (%v); keyfob leaves it alone — fix or move it", p, err)
			continue
		}
		f, err := decode(p, data)
		if err != nil {
			s.notice("ignoring the unreadable recovery file %s: %v", p, err)
			continue
		}
		if out.file == nil {
			out.file = f
		} else {
			mergeNewer(out.file, f)
		}
		out.read = append(out.read, recoveryRead{path: p, info: fi})
	}
	return out
}

// removeMerged deletes the recovery files of rec once their accounts are
// in the store. The caller holds the store lock, under which every
// recovery write happens; a file that changed since it was read anyway
// (a writer that could not take the lock) is kept for the next merge.
func (s *Store) removeMerged(rec recovery) {
	for _, r := range rec.read {
		fi, err := os.Lstat(r.path)
		if err != nil || !os.SameFile(fi, r.info) || fi.Size() != r.info.Size() || !fi.ModTime().Equal(r.info.ModTime()) {
			continue
		}
		_ = os.Remove(r.path)
	}
}

// SaveRecovery writes a to a recovery file (merging with what is there)
// after the store could not be written. It returns the path used.
//
// Recovery writes are serialised within the process (a mutex) and across
// processes (the store lock, which works on a full or read-only disk), so
// that accounts saved at the same instant all end up in the file. When the
// lock cannot be had at all, the write goes ahead under the mutex alone:
// a token kept without the lock beats a token lost.
func (s *Store) SaveRecovery(a Account) (string, error) {
	s.recoveryMu.Lock()
	defer s.recoveryMu.Unlock()
	unlock, lerr := s.lock(context.Background(), filepath.Join(s.dir, lockFile), "the account store")
	if lerr == nil {
		defer unlock()
	}
	var errs []error
	for _, p := range s.recoveryPaths() {
		err := s.saveRecoveryAt(p, a)
		if err == nil {
			if lerr != nil {
				s.notice("wrote the recovery file %s without the store lock (%v)", p, lerr)
			}
			return p, nil
		}
		errs = append(errs, err)
	}
	return "", errors.Join(errs...)
}

// saveRecoveryAt puts a into the recovery file at p, in place of what the
// file held for the same account: a was refreshed (or logged in) from the
// newest the store and recovery files had, so it is newer than anything
// there whatever the clock says. A file there that cannot be read or
// decoded is not written over: it may hold tokens too.
func (s *Store) saveRecoveryAt(p string, a Account) error {
	f := &File{Version: CurrentVersion}
	data, _, err := readNoFollow(p)
	switch {
	case err == nil:
		old, err := decode(p, data)
		if err != nil {
			return fmt.Errorf("the recovery file %s cannot be read, so keyfob does not write over it: %w", p, err)
		}
		f = old
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot read the recovery file %s: %w", p, err)
	}
	if cur := f.Find(a.ID); cur != nil {
		*cur = a
	} else {
		mergeNewer(f, &File{Accounts: []Account{a}})
	}
	if data, err = encode(f); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %w", filepath.Dir(p), err)
	}
	return s.write(p, data)
}

// mergeNewer lays the accounts of src over dst where they hold newer
// tokens (or are missing from dst), and returns how many it took. An
// account new to dst keeps a unique, valid name.
func mergeNewer(dst, src *File) int {
	n := 0
	for _, a := range src.Accounts {
		cur := dst.Find(a.ID)
		switch {
		case cur == nil:
			if ValidateName(a.Name) != nil {
				a.Name = defaultName(a)
			}
			a.Name = uniqueName(dst, a.Name)
			dst.Accounts = append(dst.Accounts, a)
			n++
		case a.AccessObtainedAt.After(cur.AccessObtainedAt):
			name := cur.Name
			*cur = a
			cur.Name = name
			n++
		}
	}
	return n
}
