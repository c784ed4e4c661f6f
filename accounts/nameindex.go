package accounts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"unicode"
)

// The name index of a file store lets `keyfob token NAME` find an account
// by its name without reading every record. It is 256 small files,
// names/00 … names/ff, each holding "key<TAB>id" lines sorted by key, where
// key is the name case-folded (see foldName) and the shard is the first
// byte of the key's SHA-256. With 50,000 accounts a shard holds about 200
// lines.
//
// The index may name more than there is, never less: a name is added to it
// (and synced) before the record that carries it is written, and taken out
// after the record is gone or renamed. So a lookup checks that the record
// it finds still has the name, and a crash leaves at worst a line that
// names nothing.

// foldName is the key of a name in the index: each character replaced by
// the smallest of its case-folding orbit, so that two names are the same
// key exactly when strings.EqualFold says they are equal.
func foldName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// shardOf is the file name of the shard holding key.
func shardOf(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:1])
}

// indexEntry is one line of a shard.
type indexEntry struct{ key, id string }

// readShard returns the entries of the shard file at path (none when it
// does not exist). Lines that are not "key<TAB>id" with a valid id are
// skipped: the index is a hint that every lookup checks.
func readShard(path string) ([]indexEntry, error) {
	data, _, err := readNoFollow(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []indexEntry
	for line := range bytes.Lines(data) {
		key, id, ok := bytes.Cut(bytes.TrimSuffix(line, []byte("\n")), []byte("\t"))
		if ok && ValidID(string(id)) {
			out = append(out, indexEntry{string(key), string(id)})
		}
	}
	return out, nil
}

// lookupShard returns the ids the shard lists for key.
func lookupShard(entries []indexEntry, key string) []string {
	var ids []string
	for _, e := range entries {
		if e.key == key {
			ids = append(ids, e.id)
		}
	}
	return ids
}

// encodeShard writes entries sorted by key, then id.
func encodeShard(entries []indexEntry) []byte {
	slices.SortFunc(entries, func(a, b indexEntry) int {
		return cmpStrings(a.key+"\t"+a.id, b.key+"\t"+b.id)
	})
	entries = slices.Compact(entries)
	var b bytes.Buffer
	for _, e := range entries {
		b.WriteString(e.key)
		b.WriteByte('\t')
		b.WriteString(e.id)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func cmpStrings(a, b string) int { return strings.Compare(a, b) }
