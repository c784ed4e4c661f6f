package serve

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"time"
)

// listenUnix listens on a Unix socket at path, created 0600. A stale
// socket left by a service that was killed is replaced; a live one, or any
// other kind of file, is refused.
func listenUnix(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket; keyfob will not replace it", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("another process is listening on %s", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("cannot remove the stale socket %s: %w", path, err)
		}
	}
	var ln net.Listener
	err := withPrivateUmask(func() (err error) {
		ln, err = net.Listen("unix", path)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := makePrivate(path); err != nil {
		ln.Close()
		return nil, fmt.Errorf("cannot make %s private: %w", path, err)
	}
	return ln, nil
}
