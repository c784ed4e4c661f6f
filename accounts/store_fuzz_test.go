package accounts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adrg/xdg"
)

// FuzzStoreDecode feeds arbitrary bytes to a store as accounts.json: a
// version 1 or 2 store (which keyfob migrates on first use), a version 3
// marker, or anything else. Whatever the bytes, nothing panics; a store
// that cannot be used is refused with a *CorruptError or *VersionError
// naming the file, no secret from the file in the message, and is left byte
// for byte as it was with nothing written beside it; a store that can is
// migrated to records that hold every account with its tokens, a backup
// that is the input byte for byte, and reads the same from a new process.
//
// The seed corpus is in testdata/fuzz/FuzzStoreDecode.
func FuzzStoreDecode(f *testing.F) {
	f.Cleanup(xdg.Reload)
	f.Setenv("XDG_STATE_HOME", f.TempDir())
	xdg.Reload()
	root := memDir(f)
	f.Add([]byte(`{"version": 1, "accounts": [{"id": "000000a1", "name": "home", "refresh_token": "NA_rt"}]}`))
	f.Add([]byte(`{"version": 4, "layout": "tables"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir, err := os.MkdirTemp(root, "store-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, StoreFile)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		m, _ := Open("", Options{Dir: dir})
		got, err := m.List(context.Background())
		if err != nil {
			checkRefusal(t, "List", path, data, err)
			if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
				t.Fatalf("the refused store changed:\nbefore %q\nafter  %q", data, after)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != StoreFile && e.Name() != lockFile {
					t.Fatalf("a refused store got company: %s", e.Name())
				}
			}
			return
		}
		old, lerr := decodeLegacy(path, data)
		if lerr != nil {
			// A version 3 marker: the store is the records, none here.
			if len(got) != 0 {
				t.Fatalf("an empty records store lists %d accounts", len(got))
			}
			return
		}
		checkMigrated(t, dir, data, old, got)
		again, err := reopenDir(t, dir).List(context.Background())
		if err != nil || len(again) != len(got) {
			t.Fatalf("a new process reads %d accounts (%v), want %d", len(again), err, len(got))
		}
	})
}

// checkMigrated checks a migration of the version 1 or 2 store data (old)
// to records listing got.
func checkMigrated(t *testing.T, dir string, data []byte, old *legacyFile, got []Account) {
	t.Helper()
	if bak, err := os.ReadFile(filepath.Join(dir, StoreFile+".bak-v"+itoa(old.Version))); err != nil || !bytes.Equal(bak, data) {
		t.Fatalf("the backup is not the old store byte for byte: %v", err)
	}
	if len(got) != len(old.Accounts) {
		t.Fatalf("%d accounts became %d", len(old.Accounts), len(got))
	}
	names := map[string]bool{}
	for _, a := range old.Accounts {
		var g *Account
		for i := range got {
			if got[i].ID == a.ID {
				g = &got[i]
			}
		}
		if g == nil || g.AccessToken != a.AccessToken || g.RefreshToken != a.RefreshToken || g.ClientSecret != a.ClientSecret ||
			g.IDToken != a.IDToken || !g.Expiry.Equal(a.Expiry) {
			t.Fatalf("account %s changed in the migration:\n%+v\n%+v", a.ID, a, g)
		}
		if ValidateName(g.Name) != nil || names[foldName(g.Name)] {
			t.Fatalf("account %s got the name %q, invalid or taken", a.ID, g.Name)
		}
		names[foldName(g.Name)] = true
	}
}

func reopenDir(t *testing.T, dir string) *Manager {
	t.Helper()
	m, err := Open("", Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// FuzzRecordDecode feeds arbitrary bytes to a store as one account's
// record. Whatever the bytes, nothing panics; a record that cannot be used
// is refused with a *CorruptError or *VersionError naming its file, with
// no secret of it in the message, and neither reads nor writes of it
// change it; one that can is read with its id and survives a rename.
func FuzzRecordDecode(f *testing.F) {
	f.Cleanup(xdg.Reload)
	f.Setenv("XDG_STATE_HOME", f.TempDir())
	xdg.Reload()
	root := memDir(f)
	good, _ := encodeRecord(Account{ID: "000000a1", Name: "home", RefreshToken: "NA_fake_refresh_0001", ClientSecret: "hunter2-secret"}, 4)
	f.Add(good)
	f.Add([]byte(`{"version": 3, "account": {"id": "000000a1", "refresh_token": "NA_secret_refresh_42", "expiry": "never"}}`))
	f.Add([]byte(`{"version": 9, "account": "elsewhere"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir, err := os.MkdirTemp(root, "store-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		m, _ := Open("", Options{Dir: dir})
		seed(t, m, Account{ID: "000000a1", Name: "home"})
		path := storeOf(m).recordPath("000000a1")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		o := reopenDir(t, dir)
		a, err := o.Get(context.Background(), "000000a1")
		if err != nil {
			checkRefusal(t, "Get", path, data, err)
			_, rerr := o.Rename(context.Background(), "000000a1", "house")
			if rerr == nil {
				t.Fatal("a refused record was renamed")
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
				t.Fatalf("the refused record changed:\nbefore %q\nafter  %q", data, after)
			}
			return
		}
		if a.ID != "000000a1" {
			t.Fatalf("the record of 000000a1 read as %q", a.ID)
		}
		if ValidateName(a.Name) != nil {
			return // a name edited by hand: renaming it away is the user's call
		}
		r, err := o.Rename(context.Background(), "000000a1", "house")
		if err != nil {
			t.Fatalf("a readable record cannot be renamed: %v", err)
		}
		back, err := reopenDir(t, dir).Get(context.Background(), "000000a1")
		if err != nil || back.Name != "house" || back.RefreshToken != a.RefreshToken || back.Revision != r.Revision {
			t.Fatalf("after the rename: %v %+v", err, back)
		}
	})
}

// checkRefusal checks an error about a file that cannot be used.
func checkRefusal(t *testing.T, op, path string, data []byte, err error) {
	t.Helper()
	var ce *CorruptError
	var ve *VersionError
	switch {
	case errors.As(err, &ce):
		if ce.Path != path {
			t.Fatalf("%s: CorruptError names %q, want %q", op, ce.Path, path)
		}
		if ce.Offset >= 0 {
			lines := bytes.Count(data, []byte{'\n'}) + 1
			if ce.Line < 1 || ce.Line > lines || ce.Column < 1 {
				t.Fatalf("%s: offset %d gave line %d column %d in a %d-line file", op, ce.Offset, ce.Line, ce.Column, lines)
			}
		}
	case errors.As(err, &ve):
		if ve.Path != path || ve.Version <= CurrentVersion {
			t.Fatalf("%s: VersionError %+v for %s", op, ve, path)
		}
	default:
		t.Fatalf("%s: got %T %v, want a *CorruptError or *VersionError", op, err, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) {
		t.Fatalf("%s: the message does not name the file: %s", op, msg)
	}
	for _, secret := range secretsIn(data, path) {
		if strings.Contains(msg, secret) {
			t.Fatalf("%s: the message shows the secret %q: %s", op, secret, msg)
		}
	}
}

// secretsIn returns the secret values of a store document that neither
// path nor any other string in it contains, so finding one in a message can
// only mean the secret field itself was shown. Short values are skipped:
// they match by accident. Keys match case-insensitively, as encoding/json
// does.
func secretsIn(data []byte, path string) []string {
	var doc any
	if json.Unmarshal(data, &doc) != nil {
		return nil
	}
	var secrets []string
	others := []string{path}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				others = append(others, k)
				s, ok := e.(string)
				if ok && isSecretField(k) {
					secrets = append(secrets, s)
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case string:
			others = append(others, v)
		}
	}
	walk(doc)
	var out []string
	for _, s := range secrets {
		if len(s) < 8 {
			continue
		}
		alone := true
		for _, o := range others {
			if strings.Contains(o, s) {
				alone = false
				break
			}
		}
		if alone {
			out = append(out, s)
		}
	}
	return out
}

func isSecretField(k string) bool {
	for _, f := range secretFields {
		if strings.EqualFold(k, f) {
			return true
		}
	}
	return false
}
