package accounts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// removeRecord removes the account with id. An account with recovery
// files is marked first with an empty tombstone (see removing): once its
// record is gone, the account is gone for every reader, though a recovery
// file of it may still be there; then its recovery files go, and last the
// tombstone (see finishRemoval). No crash between the steps brings it
// back, and no tombstone holds a secret.
func (s *fileStore) removeRecord(id string) error {
	rec := s.recordPath(id)
	marked := len(s.recoveryFor(id)) > 0
	if marked {
		if err := s.markRemoving(id); err != nil {
			return fmt.Errorf("cannot remove %s: %w", rec, err)
		}
	}
	err := s.fault(stepRemove, rec)
	if err == nil {
		err = os.Remove(rec)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		if marked {
			_ = os.Remove(s.tombstonePath(id)) // nothing was removed
		}
		return fmt.Errorf("cannot remove %s: %w", rec, err)
	}
	if err := s.syncDir(s.path(recordsDir), nil); err != nil {
		return err
	}
	if marked {
		s.finishRemoval(id)
	}
	return nil
}

// tombstonePath marks an account being removed until its recovery files
// are gone. It is no record's name.
func (s *fileStore) tombstonePath(id string) string {
	return s.path(recordsDir, "."+id+".removed")
}

// markRemoving leaves an empty tombstone for id.
func (s *fileStore) markRemoving(id string) error {
	if err := s.mkdir(s.path(recordsDir)); err != nil {
		return err
	}
	err := createSynced(s.tombstonePath(id), nil, true)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	// On disk before the record's removal, whatever a crash keeps.
	return s.syncDir(s.path(recordsDir), nil)
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
