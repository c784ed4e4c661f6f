package accounts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	Version int `json:"version"`
	// Generation counts the writes of the store. It comes right after the
	// version so that Stamp finds it in the first bytes of the file.
	Generation uint64    `json:"generation,omitempty"`
	Accounts   []Account `json:"accounts"`
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
// A Store is safe for concurrent use; it remembers the last version of the
// file it read or wrote and decodes the file again only when its stamp
// says another writer changed it.
type Store struct {
	dir string

	mu    sync.Mutex
	cache cached
	// LockTimeout bounds waits for the store and account locks
	// (DefaultLockTimeout when zero).
	LockTimeout time.Duration
	// Notice receives messages for the user that are not errors (loose
	// permissions fixed, a recovery file merged). Nil discards them.
	Notice func(string)
}

// cached is the store as last read or written, by stamp.
type cached struct {
	stamp string
	file  *File
	data  []byte // the encoded file, nil when there was none
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
	shared, _, err := s.read()
	if err != nil {
		return nil, err
	}
	f := shared.copy()
	if rec := s.readRecovery(); rec != nil {
		mergeNewer(f, rec)
	}
	return f, nil
}

// read returns the decoded store and its raw bytes (nil when missing),
// from the cache when the stamp is the same. The File is shared with the
// cache: callers change only a copy.
func (s *Store) read() (*File, []byte, error) {
	s.fixPermissions()
	stamp := s.Stamp()
	s.mu.Lock()
	c := s.cache
	s.mu.Unlock()
	if stamp != "" && c.stamp == stamp {
		return c.file, c.data, nil
	}
	path := s.Path()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Version: CurrentVersion}, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the account store %s: %w; check its permissions", path, err)
	}
	f, err := decode(path, data)
	if err != nil {
		return nil, nil, err
	}
	// The stamp was taken before the read: if a write slipped in between,
	// the next read sees a different stamp and decodes again.
	s.remember(stamp, f, data)
	return f, data, nil
}

func (s *Store) remember(stamp string, f *File, data []byte) {
	if stamp == "" {
		return
	}
	s.mu.Lock()
	s.cache = cached{stamp: stamp, file: f, data: data}
	s.mu.Unlock()
}

// copy returns a File whose account list can be changed without touching
// f. Account fields are replaced, never changed in place (Apply assigns new
// scope slices), so the accounts themselves need no deeper copy.
func (f *File) copy() *File {
	out := *f
	out.Accounts = slices.Clone(f.Accounts)
	return &out
}

// decode parses store bytes, migrating older versions in memory. path only
// names the file in errors. The current format decodes in one pass: the
// start-up cost of `keyfob token` is mostly this call.
func decode(path string, data []byte) (*File, error) {
	// Some editors save a byte-order mark; JSON has no use for it.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var f struct {
		Version    *int      `json:"version"`
		Generation uint64    `json:"generation"`
		Accounts   []Account `json:"accounts"`
	}
	err := json.Unmarshal(data, &f)
	if err != nil || f.Version == nil || *f.Version != CurrentVersion {
		return decodeOther(path, data, err)
	}
	out := &File{Version: CurrentVersion, Generation: f.Generation, Accounts: f.Accounts}
	if err := out.check(); err != nil {
		return nil, corrupt(path, data, err)
	}
	return out, nil
}

// decodeOther handles what is not a well-formed current store: a newer
// version (whose accounts may not even decode), an older one to migrate,
// or a corrupt file.
func decodeOther(path string, data []byte, decodeErr error) (*File, error) {
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, corrupt(path, data, err)
	}
	switch {
	case head.Version == nil:
		return nil, corrupt(path, data, errors.New(`the "version" field is missing`))
	case *head.Version > CurrentVersion:
		return nil, &VersionError{Path: path, Version: *head.Version}
	case *head.Version == CurrentVersion:
		return nil, corrupt(path, data, decodeErr)
	}
	migrated, err := migrate(data, *head.Version)
	if err != nil {
		return nil, corrupt(path, data, err)
	}
	return decode(path, migrated)
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

	shared, before, err := s.read()
	if err != nil {
		return err
	}
	f := shared.copy()
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
	// Nothing to write when fn changed nothing, unless the file on disk is
	// in an older format or a recovery file was folded in.
	if !merged && before != nil && versionOf(before) == CurrentVersion && reflect.DeepEqual(shared, f) {
		return nil
	}
	f.Version, f.Generation = CurrentVersion, shared.Generation+1
	data, err := encode(f)
	if err != nil {
		return err
	}
	if before != nil {
		if err := s.backupBeforeMigration(before); err != nil {
			return err
		}
	}
	if err := s.write(s.Path(), data); err != nil {
		return err
	}
	s.removeTemporaries()
	if merged {
		s.removeRecovery()
		s.notice("accounts saved in the recovery file after an earlier failed write are back in %s", s.Path())
	}
	if fi, err := os.Stat(s.Path()); err == nil {
		s.remember(s.stampOf(f.Generation, fi), f, data)
	}
	return nil
}

// removeTemporaries deletes temporary store files that a writer killed
// between creating and renaming one left behind. Only a holder of the
// store lock writes them, so under the lock every one of them is stale.
func (s *Store) removeTemporaries() {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	prefix := "." + StoreFile
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			_ = os.Remove(filepath.Join(s.dir, e.Name()))
		}
	}
}

// backupBeforeMigration keeps accounts.json.bak-vN before a file of an
// older version N is replaced by the current format.
func (s *Store) backupBeforeMigration(old []byte) error {
	v := versionOf(old)
	if v >= CurrentVersion {
		return nil
	}
	bak := fmt.Sprintf("%s.bak-v%d", s.Path(), v)
	if _, err := os.Stat(bak); err == nil {
		return nil
	}
	if err := s.write(bak, old); err != nil {
		return fmt.Errorf("cannot keep a backup of the version %d store before upgrading it: %w", v, err)
	}
	s.notice("upgraded %s from version %d to %d; the old file is kept as %s", s.Path(), v, CurrentVersion, bak)
	return nil
}

// versionOf reads the format version of store bytes that decoded, from
// the first bytes where keyfob writes it.
func versionOf(data []byte) int {
	if v, ok := headNumber(data[:min(len(data), 128)], "version"); ok {
		return int(v)
	}
	var head struct {
		Version int `json:"version"`
	}
	if json.Unmarshal(data, &head) != nil {
		return -1
	}
	return head.Version
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

// Stamp identifies the store's current content cheaply, so that a UI can
// notice writes by other processes and reads can skip decoding what they
// already hold: the generation number from the first bytes of the file
// with the file's size and time, plus the size and time of any recovery
// file. It is "" when the store cannot be identified (missing, or written
// before generations existed).
func (s *Store) Stamp() string {
	f, err := os.Open(s.Path())
	if err != nil {
		return ""
	}
	defer f.Close()
	head := make([]byte, 128)
	n, _ := io.ReadFull(f, head)
	gen, _ := headNumber(head[:n], "generation")
	fi, err := f.Stat()
	if gen == 0 || err != nil {
		return ""
	}
	return s.stampOf(gen, fi)
}

// stampOf builds the stamp of a store file of generation gen. The size and
// time catch an edit by hand, which keeps the generation: without them a
// long-running keyfob would go on using, and then write, what it read
// before — even over a file the edit broke.
func (s *Store) stampOf(gen uint64, store fs.FileInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "g%d|s%d-%d", gen, store.Size(), store.ModTime().UnixNano())
	for _, p := range s.recoveryPaths() {
		if fi, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "|r%d-%d", fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return b.String()
}

// headNumber finds `"key": N` in the head of a store file.
func headNumber(head []byte, key string) (uint64, bool) {
	_, rest, ok := bytes.Cut(head, []byte(`"`+key+`":`))
	if !ok {
		return 0, false
	}
	rest = bytes.TrimLeft(rest, " ")
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	if end == 0 || end == len(rest) { // no number, or cut off by the head's end
		return 0, false
	}
	n, err := strconv.ParseUint(string(rest[:end]), 10, 64)
	return n, err == nil
}

// recoveryPaths lists where a recovery file may be: beside the store, or in
// the XDG state directory when the store's directory cannot be written.
// The second is named after the store's directory, so that a recovery file
// of one store (say the demo's) never ends up in another.
func (s *Store) recoveryPaths() []string {
	abs, err := filepath.Abs(s.dir)
	if err != nil {
		abs = s.dir
	}
	sum := sha256.Sum256([]byte(abs))
	return []string{
		filepath.Join(s.dir, RecoveryFile),
		filepath.Join(xdg.StateHome, "keyfob", hex.EncodeToString(sum[:6])+"-"+RecoveryFile),
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
