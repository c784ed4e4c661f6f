//go:build windows

package accounts

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockOpenFlag opens a lock file that exists: read-only, so that locking
// works on a full or read-only volume (LockFileEx needs only read access).
const lockOpenFlag = os.O_RDONLY

// openFile is os.OpenFile that refuses a symbolic link or other reparse
// point at path with a *SymlinkError. Windows has no O_NOFOLLOW, so the
// check comes just before the open; keyfob's directory is private (0700 in
// spirit: the user's profile), which leaves only the user to race it.
func openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
		return nil, &SymlinkError{Path: path}
	}
	return os.OpenFile(path, flag, perm)
}

// isLinkErr reports an error that means a link was met; on Windows the
// checks before each open catch links instead.
func isLinkErr(err error) bool { return false }

// pendingFile is a temporary file that replaces its destination when
// done: created 0600 with O_EXCL beside it (named like renameio's, so
// that leftovers are found). os.Rename on Windows is MoveFileEx with
// MOVEFILE_REPLACE_EXISTING, which replaces the destination in one step.
type pendingFile struct {
	*os.File
	fixed *os.File
	dest  string
	done  bool
}

func newPendingFile(path string) (*pendingFile, error) {
	t, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"*")
	if err != nil {
		return nil, err
	}
	return &pendingFile{File: t, dest: path}, nil
}

func (t *pendingFile) replace() error {
	if err := t.Sync(); err != nil {
		return err
	}
	if err := t.Close(); err != nil {
		return err
	}
	if err := rename(t.Name(), t.dest); err != nil {
		return err
	}
	t.done = true
	return nil
}

func (t *pendingFile) cleanup() {
	if !t.done {
		_ = t.Close()
		_ = os.Remove(t.Name())
	}
}

// rename is os.Rename, tried again for up to about a second while the
// destination is open in another process: Windows refuses to replace a
// file that a reader (another keyfob reading the record) opened without
// FILE_SHARE_DELETE, which os.Open does not ask for. Readers hold a file
// for the time of one read.
func rename(from, to string) error {
	for wait := time.Millisecond; ; wait *= 2 {
		err := os.Rename(from, to)
		if err == nil || wait > 512*time.Millisecond ||
			!(errors.Is(err, syscall.ERROR_ACCESS_DENIED) || errors.Is(err, errorSharingViolation)) {
			return err
		}
		time.Sleep(wait)
	}
}

// errorSharingViolation is ERROR_SHARING_VIOLATION.
const errorSharingViolation = syscall.Errno(32)

// syncDir does nothing on Windows: a directory cannot be opened for
// flushing, and NTFS journals the rename itself.
func syncDir(dir string) error { return nil }

func syncOpenDir(dir string, d *os.File) error { return nil }

// Access right and exit code of the Windows process API.
const (
	processQueryLimitedInformation = 0x1000
	stillActive                    = 259
)

// processAlive reports whether a process with pid is running: it can be
// opened (or exists but is not ours to open) and has no exit code yet.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	h, err := syscall.OpenProcess(processQueryLimitedInformation, false, uint32(pid))
	if err != nil {
		return errors.Is(err, syscall.ERROR_ACCESS_DENIED)
	}
	defer syscall.CloseHandle(h)
	var code uint32
	if err := syscall.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	return code == stillActive
}
