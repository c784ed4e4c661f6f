//go:build !linux

package accounts

import (
	"os"
	"path/filepath"
)

// syncTree makes everything written under the directories durable: an
// fsync of each file, then of each directory.
func syncTree(dirs ...string) error {
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			f, err := os.OpenFile(filepath.Join(dir, e.Name()), os.O_RDWR, 0)
			if err != nil {
				return err
			}
			err = f.Sync()
			_ = f.Close()
			if err != nil {
				return err
			}
		}
		if err := syncDir(dir); err != nil {
			return err
		}
	}
	return nil
}
