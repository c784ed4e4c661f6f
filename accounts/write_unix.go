//go:build unix

package accounts

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/google/renameio/v2"
)

// lockOpenFlag opens a lock file that exists: read-only, which flock needs
// no more than, so that locking works on a full or read-only file system,
// and never through a symbolic link.
const lockOpenFlag = os.O_RDONLY | syscall.O_NOFOLLOW

// openFile is os.OpenFile that refuses a symbolic link at path's last
// element (O_NOFOLLOW) with a *SymlinkError.
func openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW, perm)
	return f, linkError(path, err)
}

// isLinkErr reports the errors O_NOFOLLOW gives for a link: ELOOP, and
// EMLINK on the BSDs.
func isLinkErr(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK)
}

// pendingFile is a temporary file that replaces its destination when
// done, created 0600 from its first byte with O_EXCL (so never through a
// link) in the destination's directory: renameio's, or one of a fixed name
// (newFixedPendingFile).
type pendingFile struct {
	*os.File
	r     *renameio.PendingFile
	fixed *os.File
	dest  string
	done  bool
}

func newPendingFile(path string) (*pendingFile, error) {
	t, err := renameio.NewPendingFile(path, renameio.WithTempDir(filepath.Dir(path)), renameio.WithStaticPermissions(0o600))
	if err != nil {
		return nil, err
	}
	return &pendingFile{File: t.File, r: t}, nil
}

// replace closes the file and renames it over its destination (renameio
// syncs it first; the caller synced it already, so that costs nothing).
func (t *pendingFile) replace() error {
	if t.r != nil {
		return t.r.CloseAtomicallyReplace()
	}
	if err := t.fixed.Close(); err != nil {
		return err
	}
	if err := os.Rename(t.fixed.Name(), t.dest); err != nil {
		return err
	}
	t.done = true
	return nil
}

// cleanup removes the temporary file unless it replaced its destination.
func (t *pendingFile) cleanup() {
	if t.r != nil {
		_ = t.r.Cleanup()
		return
	}
	if !t.done {
		_ = t.fixed.Close()
		_ = os.Remove(t.fixed.Name())
	}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cannot sync %s: %w", dir, err)
	}
	defer d.Close()
	return syncOpenDir(dir, d)
}

// syncOpenDir syncs the directory dir, open as d.
func syncOpenDir(dir string, d *os.File) error {
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("cannot sync %s: %w", dir, err)
	}
	return nil
}

// rename is os.Rename: a file open in another process can be replaced.
func rename(from, to string) error { return os.Rename(from, to) }

// processAlive reports whether a process with pid exists (signal 0 checks
// without sending anything; EPERM means it exists under another user).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
