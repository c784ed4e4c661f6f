//go:build !linux

package accounts

import (
	"errors"
	"io/fs"
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
			if e.IsDir() {
				continue
			}
			f, err := os.OpenFile(filepath.Join(dir, e.Name()), os.O_RDWR, 0)
			if errors.Is(err, fs.ErrNotExist) {
				continue // gone since the listing: a lock let go of, a temporary file renamed
			}
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
