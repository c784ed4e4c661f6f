package accounts

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncTree makes everything written under the directories durable: one
// syncfs(2) of their file system, which flushes thousands of new files at
// the cost of one call, then an fsync of each directory.
func syncTree(dirs ...string) error {
	for i, dir := range dirs {
		d, err := os.Open(dir)
		if err != nil {
			return err
		}
		if i == 0 {
			if err := unix.Syncfs(int(d.Fd())); err != nil {
				_ = d.Close()
				return err
			}
		}
		err = syncOpenDir(dir, d)
		_ = d.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
