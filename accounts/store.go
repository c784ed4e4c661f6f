package accounts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/adrg/xdg"
	"github.com/gofrs/flock"
	"github.com/google/renameio/v2"
)

// CurrentVersion is the store format this keyfob writes.
const CurrentVersion = 1

// File names inside the store directory.
const (
	StoreFile    = "accounts.json"
	ConfigFile   = "config.json"
	RecoveryFile = "accounts.json.recovery"
	lockFile     = ".accounts.lock"
	locksDir     = "locks"
)

// DefaultLockTimeout bounds every wait for a lock.
const DefaultLockTimeout = 30 * time.Second

// File is the decoded store: a format version and the accounts.
type File struct {
	Version  int       `json:"version"`
	Accounts []Account `json:"accounts"`
}

// Find returns the account with id, or nil.
func (f *File) Find(id string) *Account {
	for i := range f.Accounts {
		if f.Accounts[i].ID == id {
			return &f.Accounts[i]
		}
	}
	return nil
}

// Remove deletes the account with id and reports whether it was there.
func (f *File) Remove(id string) bool {
	n := len(f.Accounts)
	f.Accounts = slices.DeleteFunc(f.Accounts, func(a Account) bool { return a.ID == id })
	return len(f.Accounts) != n
}

// A migration turns the raw JSON of version N into version N+1.
type migration func(raw map[string]json.RawMessage) error

// migrations[N] upgrades a version-N file. The format has had one version
// so far; the table is where the next change goes.
var migrations = map[int]migration{}

// Store is the account store in one directory. Reads need no lock (writes
// replace the file atomically); every read-modify-write goes through Update.
type Store struct {
	dir string
	// LockTimeout bounds waits for the store and account locks
	// (DefaultLockTimeout when zero).
	LockTimeout time.Duration
	// Notice receives messages for the user that are not errors (loose
	// permissions fixed, a recovery file merged). Nil discards them.
	Notice func(string)
}

// DefaultDir is $XDG_CONFIG_HOME/keyfob.
func DefaultDir() string {
	return filepath.Join(xdg.ConfigHome, "keyfob")
}

// Open returns the store in dir without touching the disk.
func Open(dir string) *Store {
	return &Store{dir: dir}
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Path is the store file.
func (s *Store) Path() string { return filepath.Join(s.dir, StoreFile) }

func (s *Store) notice(format string, args ...any) {
	if s.Notice != nil {
		s.Notice(fmt.Sprintf(format, args...))
	}
}

func (s *Store) lockTimeout() time.Duration {
	if s.LockTimeout > 0 {
		return s.LockTimeout
	}
	return DefaultLockTimeout
}

// Load reads the store. A missing file is an empty store. Accounts saved
// in a recovery file after a failed write are laid over the ones in the
// store when they are newer, so no rotated refresh token goes unused.
func (s *Store) Load() (*File, error) {
	f, _, err := s.read()
	if err != nil {
		return nil, err
	}
	if rec := s.readRecovery(); rec != nil {
		mergeNewer(f, rec)
	}
	return f, nil
}

// read returns the decoded store and its raw bytes (nil when missing).
func (s *Store) read() (*File, []byte, error) {
	path := s.Path()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Version: CurrentVersion}, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the account store %s: %w; check its permissions", path, err)
	}
	s.fixPermissions()
	f, err := decode(path, data)
	return f, data, err
}

// decode parses store bytes, migrating older versions in memory. path only
// names the file in errors.
func decode(path string, data []byte) (*File, error) {
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, corrupt(path, data, err)
	}
	if head.Version == nil {
		return nil, corrupt(path, data, errors.New(`the "version" field is missing`))
	}
	v := *head.Version
	if v > CurrentVersion {
		return nil, &VersionError{Path: path, Version: v}
	}
	if v < CurrentVersion {
		var err error
		if data, err = migrate(data, v); err != nil {
			return nil, corrupt(path, data, err)
		}
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, corrupt(path, data, err)
	}
	if err := f.check(); err != nil {
		return nil, corrupt(path, data, err)
	}
	return &f, nil
}

// check rejects files that decode but cannot be right.
func (f *File) check() error {
	seen := make(map[string]bool, len(f.Accounts))
	for i, a := range f.Accounts {
		if a.ID == "" {
			return fmt.Errorf("account %d has no id", i+1)
		}
		if seen[a.ID] {
			return fmt.Errorf("two accounts share the id %q", a.ID)
		}
		seen[a.ID] = true
	}
	return nil
}

func migrate(data []byte, from int) ([]byte, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	for v := from; v < CurrentVersion; v++ {
		m, ok := migrations[v]
		if !ok {
			return nil, fmt.Errorf("store version %d is not supported by this keyfob", v)
		}
		if err := m(raw); err != nil {
			return nil, fmt.Errorf("migrating from version %d: %w", v, err)
		}
	}
	raw["version"] = json.RawMessage(strconv.Itoa(CurrentVersion))
	return json.Marshal(raw)
}

func corrupt(path string, data []byte, err error) error {
	e := &CorruptError{Path: path, Offset: -1, Err: err}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		e.Offset = syn.Offset
	case errors.As(err, &typ):
		e.Offset = typ.Offset
	}
	if e.Offset >= 0 {
		e.Line, e.Column = position(data, e.Offset)
	}
	return e
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	if col == 0 {
		col = 1
	}
	return line, col
}

// fixPermissions tightens a directory or store file that others can read,
// and says so.
func (s *Store) fixPermissions() {
	if fi, err := os.Stat(s.dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if os.Chmod(s.dir, 0o700) == nil {
			s.notice("%s was readable by others (%v); keyfob set it to 0700", s.dir, fi.Mode().Perm())
		}
	}
	for _, name := range []string{StoreFile, ConfigFile, RecoveryFile} {
		p := filepath.Join(s.dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if os.Chmod(p, 0o600) == nil {
				s.notice("%s was readable by others (%v); keyfob set it to 0600", p, fi.Mode().Perm())
			}
		}
	}
}

// ensureDir creates the store directory 0700.
func (s *Store) ensureDir() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the keyfob directory %s: %w", s.dir, err)
	}
	return nil
}

// Update runs fn on the current store under the store-wide lock and writes
// the result atomically. The file is read again after the lock is taken, so
// fn always sees what other processes wrote. If fn fails nothing is written;
// a corrupt or newer store is never written over.
func (s *Store) Update(ctx context.Context, fn func(*File) error) error {
	if err := s.ensureDir(); err != nil {
		return err
	}
	unlock, err := s.lock(ctx, filepath.Join(s.dir, lockFile), "the account store")
	if err != nil {
		return err
	}
	defer unlock()

	f, before, err := s.read()
	if err != nil {
		return err
	}
	// A recovery file is folded in and removed once the store is written,
	// even when everything in it is older than the store.
	rec := s.readRecovery()
	merged := rec != nil
	if merged {
		mergeNewer(f, rec)
	}
	if err := fn(f); err != nil {
		return err
	}
	f.Version = CurrentVersion
	data, err := encode(f)
	if err != nil {
		return err
	}
	if bytes.Equal(data, before) && !merged {
		return nil
	}
	if before != nil {
		if err := s.backupBeforeMigration(before); err != nil {
			return err
		}
	}
	if err := s.write(s.Path(), data); err != nil {
		return err
	}
	if merged {
		s.removeRecovery()
		s.notice("accounts saved in the recovery file after an earlier failed write are back in %s", s.Path())
	}
	return nil
}

// backupBeforeMigration keeps accounts.json.bak-vN before a file of an
// older version N is replaced by the current format.
func (s *Store) backupBeforeMigration(old []byte) error {
	var head struct {
		Version int `json:"version"`
	}
	if json.Unmarshal(old, &head) != nil || head.Version >= CurrentVersion {
		return nil
	}
	bak := fmt.Sprintf("%s.bak-v%d", s.Path(), head.Version)
	if _, err := os.Stat(bak); err == nil {
		return nil
	}
	if err := s.write(bak, old); err != nil {
		return fmt.Errorf("cannot keep a backup of the version %d store before upgrading it: %w", head.Version, err)
	}
	s.notice("upgraded %s from version %d to %d; the old file is kept as %s", s.Path(), head.Version, CurrentVersion, bak)
	return nil
}

func encode(f *File) ([]byte, error) {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cannot encode the account store: %w", err)
	}
	return append(data, '\n'), nil
}

// write replaces path atomically with data: a 0600 temporary file in the
// same directory, fsync, rename, then fsync of the directory so the rename
// itself survives a crash.
func (s *Store) write(path string, data []byte) error {
	t, err := renameio.NewPendingFile(path, renameio.WithTempDir(filepath.Dir(path)), renameio.WithStaticPermissions(0o600))
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer t.Cleanup()
	if _, err := t.Write(data); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := t.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cannot sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("cannot sync %s: %w", dir, err)
	}
	return nil
}

// lock takes an exclusive flock on path within the lock timeout. The
// holder writes its pid and command into the file so that a waiter that
// gives up can say who holds it.
func (s *Store) lock(ctx context.Context, path, what string) (unlock func(), err error) {
	l := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR))
	ctx, cancel := context.WithTimeout(ctx, s.lockTimeout())
	defer cancel()
	ok, err := l.TryLockContext(ctx, 5*time.Millisecond)
	if !ok || err != nil {
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: gave up after %v waiting for %s, held by %s; wait for it to finish or stop it",
				ErrLockTimeout, s.lockTimeout(), what, holder(path))
		}
		if errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("stopped waiting for %s: %w", what, err)
		}
		return nil, fmt.Errorf("cannot lock %s (%s): %w", what, path, err)
	}
	// Best effort: the owner note only feeds error messages.
	_ = os.WriteFile(path, []byte(ownerNote()), 0o600)
	return func() { _ = l.Unlock() }, nil
}

func ownerNote() string {
	cmd := filepath.Base(os.Args[0])
	if len(os.Args) > 1 {
		cmd += " " + os.Args[1]
	}
	return fmt.Sprintf("pid %d (%s)\n", os.Getpid(), cmd)
}

func holder(path string) string {
	b, err := os.ReadFile(path)
	if note := strings.TrimSpace(string(b)); err == nil && note != "" {
		return "keyfob process " + note
	}
	return "another keyfob process"
}

// LockAccount takes the per-account lock that serialises refreshes of one
// account across processes. Callers re-read the account after taking it.
func (s *Store) LockAccount(ctx context.Context, id, name string) (unlock func(), err error) {
	dir := filepath.Join(s.dir, locksDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the lock directory %s: %w", dir, err)
	}
	return s.lock(ctx, filepath.Join(dir, id+".lock"), fmt.Sprintf("account %q", name))
}

// Stamp identifies the store file's current content cheaply (size and
// modification time), so a UI can notice writes by other processes.
func (s *Store) Stamp() string {
	fi, err := os.Stat(s.Path())
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d-%d", fi.Size(), fi.ModTime().UnixNano())
}

// recoveryPaths lists where a recovery file may be: beside the store, or in
// the XDG state directory when the store's directory cannot be written.
func (s *Store) recoveryPaths() []string {
	return []string{
		filepath.Join(s.dir, RecoveryFile),
		filepath.Join(xdg.StateHome, "keyfob", RecoveryFile),
	}
}

// readRecovery merges every recovery file there is; nil when there is none.
func (s *Store) readRecovery() *File {
	var out *File
	for _, p := range s.recoveryPaths() {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f, err := decode(p, data)
		if err != nil {
			s.notice("ignoring the unreadable recovery file %s: %v", p, err)
			continue
		}
		if out == nil {
			out = f
		} else {
			mergeNewer(out, f)
		}
	}
	return out
}

func (s *Store) removeRecovery() {
	for _, p := range s.recoveryPaths() {
		_ = os.Remove(p)
	}
}

// SaveRecovery writes a to a recovery file (merging with what is there)
// after the store could not be written. It returns the path used.
func (s *Store) SaveRecovery(a Account) (string, error) {
	var errs []error
	for _, p := range s.recoveryPaths() {
		f := &File{Version: CurrentVersion}
		if data, err := os.ReadFile(p); err == nil {
			if old, err := decode(p, data); err == nil {
				f = old
			}
		}
		mergeNewer(f, &File{Accounts: []Account{a}})
		data, err := encode(f)
		if err == nil {
			if err = os.MkdirAll(filepath.Dir(p), 0o700); err == nil {
				err = s.write(p, data)
			}
		}
		if err == nil {
			return p, nil
		}
		errs = append(errs, err)
	}
	return "", errors.Join(errs...)
}

// mergeNewer lays the accounts of src over dst where they hold newer
// tokens (or are missing from dst), and returns how many it took.
func mergeNewer(dst, src *File) int {
	n := 0
	for _, a := range src.Accounts {
		cur := dst.Find(a.ID)
		switch {
		case cur == nil:
			dst.Accounts = append(dst.Accounts, a)
			n++
		case a.AccessObtainedAt.After(cur.AccessObtainedAt):
			name := cur.Name
			*cur = a
			cur.Name = name
			n++
		}
	}
	return n
}
