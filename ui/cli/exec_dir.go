package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/keyfob/keyfob/accounts"
)

// Token directories. Each exec makes one, named execDirPrefix and random
// letters, holding the token's file and a lock file that the exec holds
// locked for as long as it lives: the kernel drops the lock when the
// process ends, however it ends (SIGKILL, a crash, the machine's OOM
// killer), so a directory whose lock can be taken has lost its owner and
// is removed by the next exec. A directory is made under a hidden name and
// given its real one only once locked, so that no exec ever sees a live
// one unlocked.
const (
	execDirPrefix   = "keyfob-exec-"
	execNewPrefix   = ".keyfob-exec-new-"
	execLockName    = "lock"
	execNewDeadline = time.Minute // a hidden directory older than this was left by a killed exec
)

// tokenDir is the private directory of one exec and the token's file in it.
type tokenDir struct {
	dir, path string
	lock      *flock.Flock
}

// tempBase is where the token's private directory is made (see TempDir).
func (opts *ExecOptions) tempBase() string {
	if opts.TempDir != "" {
		return opts.TempDir
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if run := getenv("XDG_RUNTIME_DIR"); run != "" {
		if fi, err := os.Stat(run); err == nil && fi.IsDir() {
			return run
		}
	}
	return os.TempDir()
}

// newTokenDir removes the directories that killed execs left in base,
// then makes a fresh one that only the user can enter (0700: os.MkdirTemp
// creates it so, from the start), locked for this process.
func newTokenDir(base string) (*tokenDir, error) {
	sweepTokenDirs(base)
	tmp, err := os.MkdirTemp(base, execNewPrefix)
	if err != nil {
		return nil, fmt.Errorf("cannot make a private directory for the token in %s: %w", base, err)
	}
	lock := flock.New(filepath.Join(tmp, execLockName), flock.SetFlag(os.O_CREATE|os.O_EXCL|os.O_RDONLY))
	if ok, err := lock.TryLock(); !ok || err != nil {
		_ = os.RemoveAll(tmp)
		return nil, fmt.Errorf("cannot lock the private directory of the token in %s: %w", base, errors.Join(err, errors.New("locked by another process")))
	}
	dir := filepath.Join(base, execDirPrefix+strings.TrimPrefix(filepath.Base(tmp), execNewPrefix))
	if err := os.Rename(tmp, dir); err != nil {
		_ = lock.Unlock()
		_ = os.RemoveAll(tmp)
		return nil, fmt.Errorf("cannot make a private directory for the token in %s: %w", base, err)
	}
	return &tokenDir{dir: dir, path: filepath.Join(dir, tokenFileName), lock: lock}, nil
}

// sweepTokenDirs removes the token directories in base whose exec is
// gone: those whose lock it can take, and hidden ones older than
// execNewDeadline (an exec killed while making its directory). It leaves
// alone what is not the user's, not a directory, or locked by a live exec,
// and directories without a lock file (an older keyfob's, whose owner it
// cannot tell). Nothing here is an error: the sweep is a courtesy.
func sweepTokenDirs(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		dir := filepath.Join(base, name)
		fi, err := os.Lstat(dir)
		if err != nil || !fi.IsDir() || !ownedByUser(fi) {
			continue
		}
		switch {
		case strings.HasPrefix(name, execDirPrefix):
			removeIfUnlocked(dir)
		case strings.HasPrefix(name, execNewPrefix) && time.Since(fi.ModTime()) > execNewDeadline:
			_ = os.RemoveAll(dir)
		}
	}
}

// removeIfUnlocked removes dir when its lock file exists and can be
// locked: its exec is gone. (No exec takes a directory over, so letting go
// of the lock before removing, as Windows needs, lets nothing in.)
func removeIfUnlocked(dir string) {
	path := filepath.Join(dir, execLockName)
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		return
	}
	lock := flock.New(path, flock.SetFlag(execLockOpenFlag))
	if ok, err := lock.TryLock(); !ok || err != nil {
		return
	}
	_ = lock.Unlock()
	_ = os.RemoveAll(dir)
}

// write replaces the token's file atomically: CMD reads the old token or
// the new one, never a part. The file holds the token alone, without a
// newline, as tesla-control reads it verbatim.
func (t *tokenDir) write(token string) error {
	return accounts.WriteFile(t.path, []byte(token))
}

// remove lets go of the directory's lock and deletes it (Windows removes
// no file that is open).
func (t *tokenDir) remove() {
	_ = t.lock.Unlock()
	_ = os.RemoveAll(t.dir)
}
