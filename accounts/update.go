package accounts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

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
	// Recovery files are folded in, under the lock that every recovery
	// write takes, and removed once the store is written, even when
	// everything in them is older than the store.
	rec := s.readRecovery()
	merged := rec.file != nil
	if merged {
		mergeNewer(f, rec.file)
	}
	if err := fn(f); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return fmt.Errorf("keyfob refused to save the account store %s: %w", s.Path(), err)
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
		s.removeMerged(rec)
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
	if fi, err := os.Lstat(bak); err == nil {
		if fi.Mode()&fs.ModeSymlink != 0 {
			return &SymlinkError{Path: bak}
		}
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

// Stamp identifies the store's current content cheaply, so that a UI can
// notice writes by other processes and reads can skip decoding what they
// already hold: the generation number from the first bytes of the file
// with the file's size and time, plus the size and time of any recovery
// file. It is "" when the store cannot be identified (missing, or written
// before generations existed).
func (s *Store) Stamp() string {
	f, err := openNoFollow(s.Path())
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
		if fi, err := os.Lstat(p); err == nil {
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
