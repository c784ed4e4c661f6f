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

// atomicReplace writes data to a 0600 temporary file beside path (created
// with O_EXCL, so never through a link), fsyncs it and renames it over
// path. fault lets tests fail a step.
func atomicReplace(path string, data []byte, fault func(step, path string) error) error {
	t, err := renameio.NewPendingFile(path, renameio.WithTempDir(filepath.Dir(path)), renameio.WithStaticPermissions(0o600))
	if err != nil {
		return err
	}
	defer t.Cleanup()
	if err := fault(stepWrite, path); err != nil {
		return err
	}
	if _, err := t.Write(data); err != nil {
		return err
	}
	if err := fault(stepRename, path); err != nil {
		return err
	}
	return t.CloseAtomicallyReplace()
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cannot sync %s: %w", dir, err)
	}
	defer d.Close()
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
