//go:build unix

package cli

import (
	"path/filepath"

	"github.com/google/renameio/v2"
)

// replaceFile writes data to a 0600 temporary file beside path (created
// with O_EXCL), fsyncs it and renames it over path.
func replaceFile(path string, data []byte) error {
	t, err := renameio.NewPendingFile(path, renameio.WithTempDir(filepath.Dir(path)), renameio.WithStaticPermissions(0o600))
	if err != nil {
		return err
	}
	defer t.Cleanup()
	if _, err := t.Write(data); err != nil {
		return err
	}
	return t.CloseAtomicallyReplace()
}
