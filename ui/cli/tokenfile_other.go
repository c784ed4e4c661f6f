//go:build !unix

package cli

import (
	"os"
	"path/filepath"
)

// replaceFile writes data to a temporary file beside path (created with
// O_EXCL and mode 0600; on Windows the user's profile ACLs, not mode
// bits, keep it private), fsyncs and closes it, and renames it over
// path. os.Rename on Windows is MoveFileEx with MOVEFILE_REPLACE_EXISTING,
// which replaces path in one step; renameio does not build there.
func replaceFile(path string, data []byte) (err error) {
	t, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"*")
	if err != nil {
		return err
	}
	tmp := t.Name()
	defer func() {
		if err != nil {
			_ = t.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = t.Write(data); err != nil {
		return err
	}
	if err = t.Sync(); err != nil {
		return err
	}
	if err = t.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
