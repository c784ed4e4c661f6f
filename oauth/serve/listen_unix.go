//go:build unix

package serve

import (
	"os"
	"syscall"
)

// withPrivateUmask runs fn with a umask that creates files 0600, so that
// a Unix socket is never reachable by others, not even for an instant.
// The umask is process-wide: the service sets it once, at start-up, before
// anything else runs.
func withPrivateUmask(fn func() error) error {
	old := syscall.Umask(0o177)
	defer syscall.Umask(old)
	return fn()
}

// makePrivate sets a socket's mode to 0600, whatever the umask did.
func makePrivate(path string) error { return os.Chmod(path, 0o600) }
