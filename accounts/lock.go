package accounts

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// lock takes an exclusive flock on path within the lock timeout. A lock
// file that exists is opened read-only and without O_CREATE, so locking
// needs no disk space and works on a read-only file system: the state
// where keyfob most needs its recovery file. The holder writes its pid and
// command into the file (best effort, only for error messages) and clears
// it when it lets go.
func (s *fileStore) lock(ctx context.Context, path, what string) (unlock func(), err error) {
	if err := ensureLockFile(path); err != nil {
		return nil, fmt.Errorf("cannot lock %s: %w", what, err)
	}
	l := flock.New(path, flock.SetFlag(lockOpenFlag))
	ctx, cancel := context.WithTimeout(ctx, s.lockWait())
	defer cancel()
	ok, err := l.TryLockContext(ctx, 5*time.Millisecond)
	if !ok || err != nil {
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: gave up after %v waiting for %s, held by %s; wait for it to finish or stop it",
				ErrLockTimeout, s.lockWait(), what, holder(path))
		}
		if errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("stopped waiting for %s: %w", what, err)
		}
		return nil, fmt.Errorf("cannot lock %s (%s): %w", what, path, linkError(path, err))
	}
	writeNote(path, ownerNote())
	return func() {
		writeNote(path, "")
		_ = l.Unlock()
	}, nil
}

// ensureLockFile makes sure path is a regular file, creating it (0600,
// empty) when missing. A link or anything else there is refused.
func ensureLockFile(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		return &SymlinkError{Path: path}
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file; move it away", path)
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	f, err := openFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil // another process made it meanwhile; the open checks it
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// writeNote replaces the content of the lock file path with note. Best
// effort: a full disk, a read-only file system or (on Windows) the lock
// itself may prevent it, and then waiters only say less.
func writeNote(path, note string) {
	f, err := openFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return
	}
	if note != "" {
		_, _ = f.WriteString(note)
	}
	_ = f.Close()
}

func ownerNote() string {
	cmd := filepath.Base(os.Args[0])
	if len(os.Args) > 1 {
		cmd += " " + os.Args[1]
	}
	return fmt.Sprintf("pid %d (%s)\n", os.Getpid(), cmd)
}

// holder names who holds the lock at path, from its note. A note naming a
// process that no longer runs is left over from a holder that died (a kill
// leaves no chance to clear it) and says nothing about the live holder.
func holder(path string) string {
	const unknown = "another keyfob process"
	b, _, err := readNoFollow(path)
	note := strings.TrimSpace(string(b))
	if err != nil || note == "" || len(note) > 200 {
		return unknown
	}
	pidText, _, _ := strings.Cut(strings.TrimPrefix(note, "pid "), " ")
	pid, err := strconv.Atoi(pidText)
	if err != nil || (pid != os.Getpid() && !processAlive(pid)) {
		return unknown
	}
	return "keyfob process " + strings.Map(func(r rune) rune {
		if controlRune(r) {
			return -1
		}
		return r
	}, note)
}

// lockAccount takes the per-account lock that every write of the
// account's record holds, and a refresh across its request. Callers read
// the account again after taking it.
func (s *fileStore) lockAccount(ctx context.Context, id, name string) (unlock func(), err error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("cannot lock account %s: its id %s is not one keyfob made; check %s",
			quoteShort(name, 40), quoteShort(id, 20), s.dir)
	}
	dir, err := s.lockDir()
	if err != nil {
		return nil, err
	}
	return s.lock(ctx, filepath.Join(dir, id+".lock"), fmt.Sprintf("account %q", name))
}

// lockDir returns the directory of the account locks, creating it 0700. A
// link there would put lock files elsewhere, so it is refused.
func (s *fileStore) lockDir() (string, error) {
	dir := filepath.Join(s.dir, locksDir)
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err = s.ensureDir(); err != nil {
			return "", err
		}
		if err = os.Mkdir(dir, 0o700); err == nil || errors.Is(err, fs.ErrExist) {
			fi, err = os.Lstat(dir)
		}
	}
	switch {
	case err != nil:
		return "", fmt.Errorf("cannot create the lock directory %s: %w", dir, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return "", &SymlinkError{Path: dir}
	case !fi.IsDir():
		return "", fmt.Errorf("%s is not a directory; move it away so keyfob can keep its locks there", dir)
	}
	return dir, nil
}

// tryLockAccount takes the account's lock if nobody holds it.
func (s *fileStore) tryLockAccount(id string) (unlock func(), ok bool) {
	dir, err := s.lockDir()
	if err != nil {
		return nil, false
	}
	return s.tryLock(filepath.Join(dir, id+".lock"))
}

// tryLock takes the lock at path if nobody holds it.
func (s *fileStore) tryLock(path string) (unlock func(), ok bool) {
	if ensureLockFile(path) != nil {
		return nil, false
	}
	l := flock.New(path, flock.SetFlag(lockOpenFlag))
	if got, err := l.TryLock(); err != nil || !got {
		return nil, false
	}
	writeNote(path, ownerNote())
	return func() {
		writeNote(path, "")
		_ = l.Unlock()
	}, true
}

// lockWait is how long a lock is waited for.
func (s *fileStore) lockWait() time.Duration {
	if s.lockTimeout > 0 {
		return s.lockTimeout
	}
	return DefaultLockTimeout
}
