package accounts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// filePending is a record write prepared before a refresh request: the
// temporary file that will replace the record is created, and space for
// the answer written into it, and the directory to sync is open. Saving
// the answer then needs no new file descriptor and no new disk space, so
// neither a flood of connections that exhausts the descriptors nor a disk
// that fills while the request is out can lose a rotated refresh token.
type filePending struct {
	s    *fileStore
	path string
	t    *pendingFile
	dir  *os.File
	// storeErr is set when the write goes to a recovery file because the
	// record could not be prepared: why.
	storeErr error
}

// RecoveredError says that a write went to the recovery file Path because
// the store could not take it (Err).
type recoveredError struct {
	path string
	err  error
}

func (e *recoveredError) Error() string { return e.err.Error() }
func (e *recoveredError) Unwrap() error { return e.err }

// reserveFor is how much room a record is given ahead of its refresh:
// twice what it takes now (new tokens are about the size of the old ones)
// and some more for a first refresh.
func reserveFor(size int) int { return 2*size + 16<<10 }

// prepare sets aside the write of a's record after its refresh, or, when
// the record cannot take it (a read-only store), of a recovery file.
func (s *fileStore) prepare(_ context.Context, a Account) (pendingWrite, error) {
	pw, err := s.prepareAt(s.recordPath(a.ID), a)
	if err == nil {
		return pw, nil
	}
	// The record cannot take the answer: a recovery file can, where the
	// next read finds it. Failing that too, the refresh is not sent.
	errs := []error{err}
	for _, dir := range s.recoveryDirs() {
		p := filepath.Join(dir, a.ID+".json")
		if old, _, rerr := readNoFollow(p); rerr == nil {
			if _, _, derr := decodeRecord(p, a.ID, old); derr != nil {
				continue // unreadable: it may hold tokens too, so it stays
			}
		}
		rp, rerr := s.prepareAt(p, a)
		if rerr == nil {
			rp.storeErr = err
			return rp, nil
		}
		errs = append(errs, rerr)
	}
	return nil, errors.Join(errs...)
}

// prepareAt prepares a write of a to path.
func (s *fileStore) prepareAt(path string, a Account) (*filePending, error) {
	dirPath := filepath.Dir(path)
	if err := os.MkdirAll(dirPath, 0o700); err != nil {
		return nil, fmt.Errorf("cannot prepare to save %q: %w", a.Name, err)
	}
	if err := refuseLink(path); err != nil {
		return nil, err
	}
	now, err := encodeRecord(a, a.Revision)
	if err != nil {
		return nil, err
	}
	t, err := s.createTemp(path)
	if err != nil {
		return nil, fmt.Errorf("cannot prepare to save %q in %s: %w", a.Name, path, err)
	}
	if err := reserve(t.File, reserveFor(len(now))); err != nil {
		t.cleanup()
		return nil, fmt.Errorf("cannot set aside room to save %q in %s: %w", a.Name, path, err)
	}
	dir, err := os.Open(dirPath)
	if err != nil {
		t.cleanup()
		return nil, fmt.Errorf("cannot prepare to save %q in %s: %w", a.Name, path, err)
	}
	return &filePending{s: s, path: path, t: t, dir: dir}, nil
}

// commit writes a into the prepared file, puts it in place of the record
// and syncs, using only what prepare opened.
func (p *filePending) commit(a Account) (Account, error) {
	defer p.abort()
	a.Revision++
	data, err := encodeRecord(a, a.Revision)
	if err != nil {
		return a, err
	}
	s, f := p.s, p.t.File
	if err := s.fault(stepWrite, p.path); err != nil {
		return a, fmt.Errorf("cannot write %s: %w", p.path, err)
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return a, fmt.Errorf("cannot write %s: %w", p.path, err)
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		return a, fmt.Errorf("cannot write %s: %w", p.path, err)
	}
	if err := p.stillThere(); err != nil {
		return a, err
	}
	if err := s.replace(p.t, p.path); err != nil {
		return a, err
	}
	if err := s.syncDir(filepath.Dir(p.path), p.dir); err != nil {
		return a, err
	}
	if p.storeErr != nil {
		return a, &recoveredError{path: p.path, err: p.storeErr}
	}
	s.dropRecovery(a)
	return a, nil
}

// stillThere checks that the directory and the temporary file prepared
// before the request are still the ones at their paths: had the store's
// directory been replaced or mounted over meanwhile, renaming by path
// would put whatever file now has the temporary name in place of the
// record, and the answer written through the open file would be lost.
func (p *filePending) stillThere() error {
	dirNow, err1 := os.Lstat(filepath.Dir(p.path))
	dirThen, err2 := p.dir.Stat()
	tmpNow, err3 := os.Lstat(p.t.Name())
	tmpThen, err4 := p.t.Stat()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return fmt.Errorf("cannot write %s: %w", p.path, err)
	}
	if !os.SameFile(dirNow, dirThen) || !os.SameFile(tmpNow, tmpThen) {
		return fmt.Errorf("cannot write %s: its directory was replaced (or mounted over) while the refresh was at the server", p.path)
	}
	return nil
}

func (p *filePending) abort() {
	if p.t != nil {
		p.t.cleanup()
		p.t = nil
	}
	if p.dir != nil {
		_ = p.dir.Close()
		p.dir = nil
	}
}

// reserve writes n zero bytes to f, so that the space is the file's before
// anything else can take it (file systems reserve it at write time, also
// with delayed allocation).
func reserve(f *os.File, n int) error {
	zeros := make([]byte, 4096)
	for off := 0; off < n; off += len(zeros) {
		if _, err := f.WriteAt(zeros[:min(len(zeros), n-off)], int64(off)); err != nil {
			return err
		}
	}
	return nil
}
