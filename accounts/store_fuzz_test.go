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
	"time"

	"github.com/adrg/xdg"
)

// FuzzStoreDecode feeds arbitrary bytes to the store as accounts.json and
// checks Load and a no-op Update, on a Store that had read an earlier
// version of the file. Whatever the bytes, neither panics; the Store sees
// what a new Store sees; a store that loads re-encodes to itself; a store
// that does not is refused with a *CorruptError or *VersionError naming
// the file, no secret from the file in the message, and is left byte for
// byte as it was.
//
// The seed corpus is in testdata/fuzz/FuzzStoreDecode.
func FuzzStoreDecode(f *testing.F) {
	// Update folds in and then deletes recovery files, one of which lives
	// in the XDG state directory: point that at a scratch directory so the
	// fuzzer never touches a real one. Cleanups run last-in first-out, so
	// the reload sees the restored environment.
	f.Cleanup(xdg.Reload)
	f.Setenv("XDG_STATE_HOME", f.TempDir())
	xdg.Reload()

	// One store directory per fuzz worker, the file rewritten per input;
	// in memory where the system has a tmpfs for it, since every input
	// writes and syncs the store a few times: on a busy disk those syncs
	// stall the fuzzer past its deadline.
	dir := filepath.Join(scratchDir(f), "keyfob")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		f.Fatal(err)
	}
	path := Open(dir).Path()
	// Before each input the directory holds this store, as keyfob wrote
	// it, and a Store has read it: a long-running keyfob (the TUI) whose
	// file is then edited by hand must see the edit as a new Store does.
	warm, err := encode(&File{Version: CurrentVersion, Generation: 1, Accounts: []Account{
		{ID: "0d7c3a5b", Name: "home", Kind: KindFleet, RefreshToken: "NA_fake_refresh_0001"},
	}})
	if err != nil {
		f.Fatal(err)
	}
	// The edit comes a second after keyfob's write, as edits by hand do.
	wrote := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	edited := wrote.Add(time.Second)

	f.Add([]byte(`{"version": 1, "accounts": [{"id": "000000a1", "name": "home", "refresh_token": "NA_rt"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		writeStore(t, path, warm, wrote)
		s := Open(dir)
		if _, err := s.Load(); err != nil {
			t.Fatal(err)
		}
		writeStore(t, path, data, edited)

		got, err := s.Load()
		if err != nil {
			if got != nil {
				t.Fatalf("Load returned a file and the error %v", err)
			}
			checkRefusal(t, "Load", path, data, err)
		} else {
			checkRoundTrip(t, path, got)
		}
		fresh, ferr := Open(dir).Load()
		if (err == nil) != (ferr == nil) {
			t.Fatalf("a Store that had read the file before says %v, a new one says %v", err, ferr)
		}
		if err == nil {
			sameAccounts(t, fresh, got)
		}

		checkNoOpUpdate(t, s, path, data, got, err)
	})
}

// checkNoOpUpdate runs a no-op Update on s after Load said loadErr about
// data at path (and returned got): it must refuse exactly what Load
// refused, leaving the file as it was, and otherwise leave the file as it
// was or in its canonical encoding, holding the same accounts.
func checkNoOpUpdate(t *testing.T, s *Store, path string, data []byte, got *File, loadErr error) {
	t.Helper()
	uerr := s.Update(context.Background(), func(*File) error { return nil })
	after, rerr := os.ReadFile(path)
	if rerr != nil {
		t.Fatalf("the store is gone after Update: %v", rerr)
	}
	if (loadErr == nil) != (uerr == nil) {
		t.Fatalf("Load said %v but Update said %v", loadErr, uerr)
	}
	if uerr != nil {
		checkRefusal(t, "Update", path, data, uerr)
		if !bytes.Equal(after, data) {
			t.Fatalf("Update failed with %v and still changed the file:\nbefore %q\nafter  %q", uerr, data, after)
		}
		return
	}
	// A no-op Update leaves the file as it was or rewrites it in the
	// canonical encoding, holding the same accounts.
	again, err := decode(path, after)
	if err != nil {
		t.Fatalf("the store written by Update does not decode: %v\n%s", err, after)
	}
	sameAccounts(t, got, again)
	if !bytes.Equal(after, data) {
		canon, err := encode(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(after, canon) {
			t.Fatalf("Update wrote a non-canonical file:\n%s\nwant\n%s", after, canon)
		}
	}
	reloaded, err := Open(s.Dir()).Load()
	if err != nil {
		t.Fatalf("the store written by Update does not load: %v", err)
	}
	sameAccounts(t, got, reloaded)
}

// writeStore puts data at path with the modification time at.
func writeStore(t *testing.T, path string, data []byte, at time.Time) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

// checkRefusal checks an error about a store that cannot be used.
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

// checkRoundTrip checks that a decoded store survives encoding: decoding
// the encoding gives the same accounts, and encoding is a fixed point.
func checkRoundTrip(t *testing.T, path string, f *File) {
	t.Helper()
	if f.Version != CurrentVersion {
		t.Fatalf("Load returned version %d, want %d", f.Version, CurrentVersion)
	}
	enc, err := encode(f)
	if err != nil {
		t.Fatalf("a store that loads cannot be encoded: %v", err)
	}
	back, err := decode(path, enc)
	if err != nil {
		t.Fatalf("the encoding of a store that loads does not decode: %v\n%s", err, enc)
	}
	sameAccounts(t, f, back)
	enc2, err := encode(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not stable:\n%s\nthen\n%s", enc, enc2)
	}
}

// sameAccounts compares what must never change between two reads of a
// store: the accounts, in order, with their ids, names and tokens.
func sameAccounts(t *testing.T, a, b *File) {
	t.Helper()
	if len(a.Accounts) != len(b.Accounts) {
		t.Fatalf("%d accounts became %d", len(a.Accounts), len(b.Accounts))
	}
	for i := range a.Accounts {
		x, y := a.Accounts[i], b.Accounts[i]
		if x.ID != y.ID || x.Name != y.Name || x.AccessToken != y.AccessToken || x.RefreshToken != y.RefreshToken ||
			x.IDToken != y.IDToken || x.ClientSecret != y.ClientSecret || !x.Expiry.Equal(y.Expiry) {
			t.Fatalf("account %d changed:\n%+v\n%+v", i, x, y)
		}
	}
}

// secretFields are the JSON keys of an account that hold secrets.
var secretFields = []string{"access_token", "refresh_token", "id_token", "client_secret"}

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

// scratchDir is a temporary directory on /dev/shm when there is one,
// else the test's own.
func scratchDir(f *testing.F) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "keyfob-fuzz-"); err == nil {
			f.Cleanup(func() { _ = os.RemoveAll(d) })
			return d
		}
	}
	return f.TempDir()
}
