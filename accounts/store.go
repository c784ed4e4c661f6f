package accounts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/adrg/xdg"
)

// CurrentVersion is the store format this keyfob writes. Version 2 added
// the consumers of the token service.
const CurrentVersion = 2

// File names inside the store directory.
const (
	StoreFile    = "accounts.json"
	ConfigFile   = "config.json"
	RecoveryFile = "accounts.json.recovery"
	lockFile     = ".accounts.lock"
	configLock   = ".config.lock"
	locksDir     = "locks"
)

// DefaultLockTimeout bounds every wait for a lock.
const DefaultLockTimeout = 30 * time.Second

// File is the decoded store: a format version, the accounts and the
// consumers of the token service (programs that get an account's access
// tokens from keyfob serve).
type File struct {
	Version int `json:"version"`
	// Generation counts the writes of the store. It comes right after the
	// version so that Stamp finds it in the first bytes of the file.
	Generation uint64     `json:"generation,omitempty"`
	Accounts   []Account  `json:"accounts"`
	Consumers  []Consumer `json:"consumers,omitempty"`
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

// Remove deletes the account with id, and the consumers of the token
// service that get its tokens (their credentials stop working), and
// reports whether it was there. A consumer is never left pointing at an
// account that a later login could bring back under the same id.
func (f *File) Remove(id string) bool {
	n := len(f.Accounts)
	f.Accounts = slices.DeleteFunc(f.Accounts, func(a Account) bool { return a.ID == id })
	f.Consumers = slices.DeleteFunc(f.Consumers, func(c Consumer) bool { return c.AccountID == id })
	return len(f.Accounts) != n
}

// A migration turns the raw JSON of version N into version N+1.
type migration func(raw map[string]json.RawMessage) error

// migrations[N] upgrades a version-N file; Update keeps the file it
// replaces as accounts.json.bak-vN.
var migrations = map[int]migration{
	// Version 2 added the consumers of the token service; a version 1
	// store has none.
	1: func(raw map[string]json.RawMessage) error {
		if _, ok := raw["consumers"]; !ok {
			raw["consumers"] = json.RawMessage("[]")
		}
		return nil
	},
}

// Store is the account store in one directory. Reads need no lock (writes
// replace the file atomically); every read-modify-write goes through Update.
// A Store is safe for concurrent use; it remembers the last version of the
// file it read or wrote and decodes the file again only when its stamp
// says another writer changed it.
type Store struct {
	dir string

	mu    sync.Mutex
	cache cached
	// recoveryMu serialises this process's recovery writes; the store
	// lock serialises them across processes.
	recoveryMu sync.Mutex
	// faults, when set by a test, can fail any step of a write.
	faults func(step, path string) error
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
	if rec := s.readRecovery(); rec.file != nil {
		mergeNewer(f, rec.file)
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
	data, _, err := readNoFollow(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Version: CurrentVersion}, nil, nil
	}
	var link *SymlinkError
	if errors.As(err, &link) {
		return nil, nil, err
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
	out.Consumers = slices.Clone(f.Consumers)
	return &out
}

// decode parses store bytes, migrating older versions in memory. path only
// names the file in errors. The current format decodes in one pass: the
// start-up cost of `keyfob token` is mostly this call.
func decode(path string, data []byte) (*File, error) {
	// Some editors save a byte-order mark; JSON has no use for it.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var f struct {
		Version    *int       `json:"version"`
		Generation uint64     `json:"generation"`
		Accounts   []Account  `json:"accounts"`
		Consumers  []Consumer `json:"consumers"`
	}
	err := json.Unmarshal(data, &f)
	if err != nil || f.Version == nil || *f.Version != CurrentVersion {
		return decodeOther(path, data, err)
	}
	out := &File{Version: CurrentVersion, Generation: f.Generation, Accounts: f.Accounts, Consumers: f.Consumers}
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

// check rejects files that decode but cannot be right: accounts without
// an id, with one keyfob did not make (lock files are named after ids, so
// "../x" would put one outside the directory), or sharing one.
func (f *File) check() error {
	seen := make(map[string]bool, len(f.Accounts))
	for i, a := range f.Accounts {
		switch {
		case a.ID == "":
			return fmt.Errorf("account %d has no id", i+1)
		case !ValidID(a.ID):
			return fmt.Errorf("account %d (%s) has the id %s, which keyfob did not make (its ids are %d lowercase hexadecimal digits)",
				i+1, quoteShort(a.Name, 40), quoteShort(a.ID, 40), idLen)
		case seen[a.ID]:
			return fmt.Errorf("two accounts share the id %q", a.ID)
		}
		seen[a.ID] = true
	}
	return f.checkConsumers()
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
// and says so. The directory may be a link (dotfile managers make one);
// the files in it are never followed, so a link planted there cannot
// make keyfob change the mode of another file.
func (s *Store) fixPermissions() {
	if fi, err := os.Stat(s.dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if os.Chmod(s.dir, 0o700) == nil {
			s.notice("%s was readable by others (%v); keyfob set it to 0700", s.dir, fi.Mode().Perm())
		}
	}
	for _, name := range []string{StoreFile, ConfigFile, RecoveryFile} {
		p := filepath.Join(s.dir, name)
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
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
