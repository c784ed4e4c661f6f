package accounts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// CurrentVersion is the store format this keyfob writes. Version 2 was one
// file, accounts.json, holding every account and the consumers of the
// token service; version 3 keeps one file per account (see fileStore),
// so that reading or refreshing one account costs the same whatever the
// number of accounts.
const CurrentVersion = 3

// record is one account as its file holds it: the format version, the
// store's revision of the record (it grows by one with every write), and
// the account.
type record struct {
	Version  int     `json:"version"`
	Revision int64   `json:"revision"`
	Account  Account `json:"account"`
}

// encodeRecord encodes a as a record of revision rev.
func encodeRecord(a Account, rev int64) ([]byte, error) {
	data, err := json.MarshalIndent(record{Version: CurrentVersion, Revision: rev, Account: a}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cannot encode the account %q: %w", a.Name, err)
	}
	return append(data, '\n'), nil
}

// decodeRecord decodes the record file at path (path only names it in
// errors) and checks it: the version must be this keyfob's (a newer one is
// a *VersionError, and the file is left alone), and the account's id must
// be the one its file is named after (id), which keyfob made.
func decodeRecord(path, id string, data []byte) (Account, int64, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var r struct {
		Version  *int     `json:"version"`
		Revision int64    `json:"revision"`
		Account  *Account `json:"account"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		var head struct {
			Version *int `json:"version"`
		}
		if json.Unmarshal(data, &head) == nil && head.Version != nil && *head.Version > CurrentVersion {
			return Account{}, 0, &VersionError{Path: path, Version: *head.Version}
		}
		return Account{}, 0, corrupt(path, data, err)
	}
	switch {
	case r.Version == nil:
		return Account{}, 0, corrupt(path, data, errors.New(`the "version" field is missing`))
	case *r.Version > CurrentVersion:
		return Account{}, 0, &VersionError{Path: path, Version: *r.Version}
	case *r.Version != CurrentVersion:
		return Account{}, 0, corrupt(path, data, fmt.Errorf("version %d is not a version of keyfob's account records (%d)", *r.Version, CurrentVersion))
	case r.Account == nil:
		return Account{}, 0, corrupt(path, data, errors.New(`the "account" field is missing`))
	case r.Account.ID != id:
		return Account{}, 0, corrupt(path, data, fmt.Errorf("the record names the account id %s, not %s after which its file is named",
			quoteShort(r.Account.ID, 20), id))
	}
	a := *r.Account
	a.Revision = r.Revision
	return a, r.Revision, nil
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
