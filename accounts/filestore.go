package accounts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/adrg/xdg"
)

// File and directory names inside a file store's directory.
const (
	// StoreFile names the store: in version 3 a small marker that says
	// the accounts are in records/ (and makes a keyfob that knows only
	// version 2 refuse the store instead of starting an empty one); in
	// versions 1 and 2 the whole store, which keyfob migrates on first use.
	StoreFile = "accounts.json"
	// ConfigFile holds the settings.
	ConfigFile    = "config.json"
	recordsDir    = "records"
	namesDir      = "names"
	recoveryDir   = "recovery"
	consumersFile = "consumers.json"
	lockFile      = ".accounts.lock"
	configLock    = ".config.lock"
	locksDir      = "locks"
	// legacyRecovery is where keyfob before version 3 kept unsaved
	// rotations; a store migrated while such a keyfob was refreshing
	// may still get one, which is merged on use.
	legacyRecovery = "accounts.json.recovery"
)

// DefaultLockTimeout bounds every wait for a lock.
const DefaultLockTimeout = 30 * time.Second

// DefaultDir is $XDG_CONFIG_HOME/keyfob.
func DefaultDir() string {
	return filepath.Join(xdg.ConfigHome, "keyfob")
}

// fileStore keeps accounts in a directory, one file per account:
//
//	accounts.json         the marker: {"version": 3, "layout": "records"}
//	records/ID.json       an account: {"version": 3, "revision": N, "account": {…}}
//	names/XX              the name index: "name<TAB>id" lines, in 256 shards
//	consumers.json        the consumers of the token service
//	recovery/ID.json      a rotated refresh token that could not be saved
//	locks/ID.lock         the lock every write of an account's record holds
//	.accounts.lock        the store lock: names, consumers, migration
//
// Every file is written atomically (a 0600 temporary file, fsync, rename,
// fsync of the directory) and opened without following a symbolic link.
// Reading one account reads its record (and the name index's shard when it
// is named); a refresh writes its record alone.
type fileStore struct {
	dir         string
	lockTimeout time.Duration
	notice      func(string)
	// faults, when set by a test, can fail any step of a write.
	faults func(step, path string) error
	// merging is set while mergeLegacyRecovery runs.
	merging atomic.Bool
	// stateAt is stateDir, worked out once: the watcher's looks read it.
	stateAt   string
	stateOnce sync.Once
}

func (s *fileStore) location() string { return s.dir }

func (s *fileStore) path(parts ...string) string {
	return filepath.Join(append([]string{s.dir}, parts...)...)
}

func (s *fileStore) recordPath(id string) string { return s.path(recordsDir, id+".json") }

func (s *fileStore) noticef(format string, args ...any) {
	if s.notice != nil {
		s.notice(fmt.Sprintf(format, args...))
	}
}

// marker is what accounts.json holds in version 3.
type marker struct {
	Version int    `json:"version"`
	Layout  string `json:"layout"`
	Note    string `json:"note,omitempty"`
}

const layoutRecords = "records"

func markerBytes() []byte {
	data, _ := json.MarshalIndent(marker{Version: CurrentVersion, Layout: layoutRecords,
		Note: "keyfob keeps one file per account in records/; the version 2 store, if any, is kept as accounts.json.bak-v2"}, "", "  ")
	return append(data, '\n')
}

// storeState is what accounts.json says about the store.
type storeState int

const (
	stateEmpty   storeState = iota // no store yet
	stateRecords                   // version 3: records/
	stateOld                       // version 1 or 2: to migrate
)

// state reads accounts.json: no file is an empty store, a version 3
// marker the current layout, an older version a store to migrate. A newer
// version is a *VersionError and anything else a *CorruptError; the file is
// never written over in either case.
func (s *fileStore) state() (storeState, []byte, error) {
	path := s.path(StoreFile)
	data, _, err := readNoFollow(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return stateEmpty, nil, nil
	case errors.As(err, new(*SymlinkError)):
		return 0, nil, err
	case err != nil:
		return 0, nil, fmt.Errorf("cannot read the account store %s: %w; check its permissions", path, err)
	}
	head := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var v struct {
		Version *int   `json:"version"`
		Layout  string `json:"layout"`
	}
	if err := json.Unmarshal(head, &v); err != nil {
		return 0, nil, corrupt(path, data, err)
	}
	switch {
	case v.Version == nil:
		return 0, nil, corrupt(path, data, errors.New(`the "version" field is missing`))
	case *v.Version > CurrentVersion:
		return 0, nil, &VersionError{Path: path, Version: *v.Version}
	case *v.Version == CurrentVersion && v.Layout != layoutRecords:
		return 0, nil, corrupt(path, data, fmt.Errorf("version %d names the layout %q, which this keyfob does not know", *v.Version, v.Layout))
	case *v.Version == CurrentVersion:
		return stateRecords, nil, nil
	case *v.Version < 1:
		return 0, nil, corrupt(path, data, fmt.Errorf("store version %d is not one keyfob wrote", *v.Version))
	}
	return stateOld, data, nil
}

// ready makes sure the store is in the current layout, migrating an older
// one (see migrate), takes in what an older keyfob left in its recovery
// files, and reports whether there is a store at all.
func (s *fileStore) ready(ctx context.Context) (bool, error) {
	st, err := s.upgrade(ctx)
	if err != nil || st != stateRecords {
		return false, err
	}
	if err := s.checkDirs(); err != nil {
		return false, err
	}
	// Taking a file in writes through update, which must not come back
	// here while this runs.
	if s.merging.CompareAndSwap(false, true) {
		s.mergeLegacyRecovery(ctx)
		s.merging.Store(false)
	}
	return true, nil
}

// upgrade migrates a store of an older version and says what the store
// is now.
func (s *fileStore) upgrade(ctx context.Context) (storeState, error) {
	st, _, err := s.state()
	if err != nil {
		return 0, err
	}
	if st == stateOld {
		if err := s.migrate(ctx); err != nil {
			return 0, err
		}
		st = stateRecords
	}
	return st, nil
}

// checkDirs refuses a store whose directories are links or files: records
// read through a link would be another store's, and writes would land
// elsewhere.
func (s *fileStore) checkDirs() error {
	for _, d := range []string{recordsDir, namesDir, recoveryDir, locksDir} {
		p := s.path(d)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("cannot look at %s: %w", p, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return &SymlinkError{Path: p}
		case !fi.IsDir():
			return fmt.Errorf("%s is not a directory; move it away so keyfob can keep its files there", p)
		}
	}
	return nil
}

// create makes a new, empty store: the directories, then the marker. The
// caller holds the store lock.
func (s *fileStore) create() error {
	for _, d := range []string{recordsDir, namesDir, recoveryDir, locksDir} {
		if err := s.mkdir(s.path(d)); err != nil {
			return err
		}
	}
	if err := syncDir(s.dir); err != nil {
		return err
	}
	return s.write(s.path(StoreFile), markerBytes())
}

// mkdir creates dir 0700 unless it exists; a link or a file there is
// refused.
func (s *fileStore) mkdir(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.Mkdir(dir, 0o700); err == nil || errors.Is(err, fs.ErrExist) {
			fi, err = os.Lstat(dir)
		}
	}
	switch {
	case err != nil:
		return fmt.Errorf("cannot create %s: %w", dir, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return &SymlinkError{Path: dir}
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory; move it away so keyfob can keep its files there", dir)
	}
	return nil
}

// ensureDir creates the store directory 0700.
func (s *fileStore) ensureDir() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the keyfob directory %s: %w", s.dir, err)
	}
	return nil
}

// fixPermissions tightens the directory and the files of the store that
// others can read, and says so. The directory may be a link (dotfile
// managers make one); the files in it are never followed.
func (s *fileStore) fixPermissions() {
	if fi, err := os.Stat(s.dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if os.Chmod(s.dir, 0o700) == nil {
			s.noticef("%s was readable by others (%v); keyfob set it to 0700", s.dir, fi.Mode().Perm())
		}
	}
	for _, name := range []string{StoreFile, ConfigFile, consumersFile, legacyRecovery} {
		p := s.path(name)
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			if os.Chmod(p, 0o600) == nil {
				s.noticef("%s was readable by others (%v); keyfob set it to 0600", p, fi.Mode().Perm())
			}
		}
	}
}

// stateDir is where keyfob keeps what it cannot keep beside the store,
// named after the store's directory so that one store's files (say the
// demo's) never end up in another.
func (s *fileStore) stateDir() string {
	s.stateOnce.Do(func() {
		abs, err := filepath.Abs(s.dir)
		if err != nil {
			abs = s.dir
		}
		sum := sha256.Sum256([]byte(abs))
		s.stateAt = filepath.Join(xdg.StateHome, "keyfob", hex.EncodeToString(sum[:6]))
	})
	return s.stateAt
}

// The backend interface, over the methods above and in filestore_*.go.

func (s *fileStore) get(_ context.Context, id string) (Account, error) { return s.account(id) }

func (s *fileStore) byName(_ context.Context, name string) (Account, bool, error) {
	return s.named(name)
}

func (s *fileStore) ids(_ context.Context, limit int) ([]string, error) { return s.listIDs(limit) }

func (s *fileStore) load(context.Context) (*Snapshot, error) { return s.loadAll() }

func (s *fileStore) consumers(context.Context) ([]Consumer, error) {
	c, _, err := s.readConsumers()
	return c, err
}

func (s *fileStore) close() error { return nil }
