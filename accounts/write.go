package accounts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The steps of a write, in order. A test can watch each one or make it
// fail (see fileStore.faults): every write of a secret must create its
// temporary file 0600 (stepCreate is told the temporary file's path, whose
// mode the test reads before anything is written to it), sync it, rename
// it over the old file and sync the directory.
const (
	stepCreate  = "create"  // the temporary file exists (path: the temporary file)
	stepWrite   = "write"   // writing it
	stepSync    = "sync"    // fsync of the file
	stepRename  = "rename"  // putting it in place of the old file
	stepSyncDir = "syncdir" // fsync of the directory (path: the directory)
	// stepRemove is taking a file out of the store: a record (renamed to
	// its tombstone), then each recovery file of a removed account.
	stepRemove = "remove"
)

// fault returns the error a test injected for step on path, or nil. It
// costs one nil check when no test is looking.
func (s *fileStore) fault(step, path string) error {
	if s == nil || s.faults == nil {
		return nil
	}
	return s.faults(step, path)
}

// write replaces path atomically with data: a 0600 temporary file in the
// same directory, fsync, rename, then fsync of the directory so the rename
// itself survives a crash. A symbolic link at path is refused, not
// replaced: whoever put it there expects it to be followed.
func (s *fileStore) write(path string, data []byte) error {
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
	return s.syncDir(filepath.Dir(path), nil)
}

// createTemp creates the 0600 temporary file that will replace path: a
// randomly named one beside it (renameio's), or, for an account's record
// or recovery file, the one temporary name it has (see recordTemp).
func (s *fileStore) createTemp(path string) (*pendingFile, error) {
	var t *pendingFile
	var err error
	if base := filepath.Base(filepath.Dir(path)); s != nil && (base == recordsDir || base == recoveryDir) {
		t, err = newFixedPendingFile(path, recordTemp(path))
	} else {
		t, err = newPendingFile(path)
	}
	if err != nil {
		return nil, err
	}
	if err := s.fault(stepCreate, t.Name()); err != nil {
		t.cleanup()
		return nil, err
	}
	return t, nil
}

// replace syncs the temporary file t and renames it over path.
func (s *fileStore) replace(t *pendingFile, path string) error {
	if err := s.fault(stepSync, path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := t.Sync(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := s.fault(stepRename, path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := t.replace(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// recordTemp is the temporary file of a record: always the same name, so
// that the next writer of the account (who holds its lock) removes what a
// killed writer left there, tokens and all, without listing a directory of
// thousands of records.
func recordTemp(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
}

// newFixedPendingFile is a pendingFile at tmp, a name only holders of the
// destination's lock use: a leftover there is a killed writer's, and goes.
func newFixedPendingFile(path, tmp string) (*pendingFile, error) {
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	f, err := openFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &pendingFile{File: f, fixed: f, dest: path}, nil
}

// syncDir makes a rename in dir durable, through d when it is open.
func (s *fileStore) syncDir(dir string, d *os.File) error {
	if err := s.fault(stepSyncDir, dir); err != nil {
		return fmt.Errorf("cannot sync %s: %w", dir, err)
	}
	if d != nil {
		return syncOpenDir(dir, d)
	}
	return syncDir(dir)
}

// WriteFile replaces path atomically with data, the way keyfob writes its
// store: a 0600 temporary file beside it (private from its first byte),
// fsync, rename, then fsync of the directory. Readers see the old content or
// the new one, never a torn or empty file. A symbolic link at path is
// refused with a *SymlinkError, and anything else that is not a regular
// file with an error: keyfob writes secrets only where it was told to.
func WriteFile(path string, data []byte) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink == 0 && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file; keyfob writes tokens only to regular files", path)
	}
	return (*fileStore)(nil).write(path, data)
}

// refuseLink fails with a *SymlinkError when path is a symbolic link.
func refuseLink(path string) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return &SymlinkError{Path: path}
	}
	return nil
}

// openNoFollow opens path for reading without following a symbolic link
// at its last element (the directories above it may be links).
func openNoFollow(path string) (*os.File, error) {
	return openFile(path, os.O_RDONLY, 0)
}

// readNoFollow reads a whole file without following a symbolic link, and
// returns what it read with the file's identity at that time.
func readNoFollow(path string) ([]byte, fs.FileInfo, error) {
	f, err := openNoFollow(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file; move it away", path)
	}
	var buf bytes.Buffer
	buf.Grow(int(fi.Size()) + bytes.MinRead)
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), fi, nil
}

// linkError turns the error of an open that met a symbolic link into a
// *SymlinkError; other errors pass unchanged.
func linkError(path string, err error) error {
	var se *SymlinkError
	if err == nil || errors.As(err, &se) {
		return err
	}
	if isLinkErr(err) {
		return &SymlinkError{Path: path}
	}
	return err
}
