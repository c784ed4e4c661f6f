package cli

import (
	"fmt"
	"io/fs"
	"os"
)

// writeSecretFile replaces path atomically with data, created 0600 from
// its first byte: readers (another tool, a cron job) see the old content or
// the new one, never a torn or empty file. A symbolic link at path is
// refused rather than replaced or followed, as the store refuses them:
// whoever put it there expects it to be followed, and following it would
// let the link decide where a token lands.
func writeSecretFile(path string, data []byte) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link; keyfob writes tokens only to regular files — give the link's target instead", path)
	} else if err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if err := replaceFile(path, data); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}
