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
// done: renameio's, created 0600 from its first byte with O_EXCL (so never
// through a link) in the destination's directory.
type pendingFile struct {
	*renameio.PendingFile
}

func newPendingFile(path string) (*pendingFile, error) {
	t, err := renameio.NewPendingFile(path, renameio.WithTempDir(filepath.Dir(path)), renameio.WithStaticPermissions(0o600))
	if err != nil {
		return nil, err
	}
	return &pendingFile{t}, nil
}

// replace closes the file and renames it over its destination (renameio
// syncs it first; the caller synced it already, so that costs nothing).
func (t *pendingFile) replace() error { return t.CloseAtomicallyReplace() }

// cleanup removes the temporary file unless it replaced its destination.
func (t *pendingFile) cleanup() { _ = t.Cleanup() }

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

// processAlive reports whether a process with pid exists (signal 0 checks
// without sending anything; EPERM means it exists under another user).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
