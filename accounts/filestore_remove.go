package accounts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// removeRecord removes the account with id in steps that no crash can
// undo halfway: its record is renamed to its tombstone, and from then on
// the account is gone, though a recovery file of it may still be there
// (reads ignore such a file; see removing); then its recovery files go,
// and last the tombstone (see finishRemoval). An account that only a
// recovery file holds gets an empty tombstone first.
func (s *fileStore) removeRecord(id string) error {
	rec, tomb := s.recordPath(id), s.tombstonePath(id)
	err := s.fault(stepRemove, rec)
	if err == nil {
		err = rename(rec, tomb)
	}
	if errors.Is(err, fs.ErrNotExist) {
		if len(s.recoveryFor(id)) == 0 {
			return nil
		}
		err = s.markRemoving(id)
	}
	if err != nil {
		return fmt.Errorf("cannot remove %s: %w", rec, err)
	}
	if err := s.syncDir(s.path(recordsDir), nil); err != nil {
		return err
	}
	s.finishRemoval(id)
	return nil
}

// tombstonePath is where the record of an account being removed waits
// until its recovery files are gone. It is no record's name.
func (s *fileStore) tombstonePath(id string) string {
	return s.path(recordsDir, "."+id+".removed")
}

// markRemoving leaves an empty tombstone for id.
func (s *fileStore) markRemoving(id string) error {
	if err := s.mkdir(s.path(recordsDir)); err != nil {
		return err
	}
	err := createSynced(s.tombstonePath(id), nil, true)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	return err
}

// removing reports an account whose removal began: a recovery file of it
// that is still there holds nothing to bring back.
func (s *fileStore) removing(id string) bool {
	_, err := os.Lstat(s.tombstonePath(id))
	return err == nil
}

// finishRemoval removes the recovery files of the account with id, whose
// tombstone is there, then the tombstone. What cannot be removed now is
// removed by a later write (see mergeOne).
func (s *fileStore) finishRemoval(id string) {
	for _, r := range s.recoveryFor(id) {
		err := s.fault(stepRemove, r.path)
		if err == nil {
			err = os.Remove(r.path)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return
		}
	}
	_ = os.Remove(s.tombstonePath(id))
}
