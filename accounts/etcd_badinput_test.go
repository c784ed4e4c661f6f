package accounts_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/accounts/etcdtest"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestEtcdLocationErrors: a location keyfob cannot use is refused when it
// is opened, saying what is wrong, before anything is sent.
func TestEtcdLocationErrors(t *testing.T) {
	t.Parallel()
	key := etcdtest.KeyFile(t, t.TempDir())
	for _, tc := range []struct{ loc, want string }{
		{"etcd://127.0.0.1:2379", "names no prefix"},
		{"etcd://127.0.0.1:2379/", "names no prefix"},
		{"etcd:///keyfob", "names no etcd member"},
		{"etcd://127.0.0.1/keyfob", "is not HOST:PORT"},
		{"etcd://127.0.0.1:99999/keyfob", "is not HOST:PORT"},
		{"etcd://user:pw@127.0.0.1:2379/keyfob", "KEYFOB_ETCD_USERNAME"},
		{"etcd://127.0.0.1:2379/keyfob?tls=1", "takes no query"},
		{"etcd://127.0.0.1:2379/a//b", "single slashes"},
	} {
		_, err := accounts.Open(tc.loc, accounts.Options{Dir: t.TempDir(), Etcd: accounts.EtcdOptions{KeyFile: key}})
		var le *accounts.LocationError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a LocationError saying %q", tc.loc, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("%s: the error repeats the password: %v", tc.loc, err)
		}
	}
}

// TestEtcdKeyFileErrors: the store key must exist, hold 32 bytes in
// base64 and be readable by its owner alone; without one an etcd store is
// refused unless plain text is asked for.
func TestEtcdKeyFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := etcdtest.KeyFile(t, dir)
	loose := write("loose.key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n", 0o644)
	short := write("short.key", "c2hvcnQ=\n", 0o600)
	for _, tc := range []struct {
		name string
		o    accounts.EtcdOptions
		want string
	}{
		{"missing", accounts.EtcdOptions{KeyFile: filepath.Join(dir, "none.key")}, "openssl rand -base64 32"},
		{"loose", accounts.EtcdOptions{KeyFile: loose}, "chmod 600"},
		{"short", accounts.EtcdOptions{KeyFile: short}, "32 bytes in base64"},
		{"none", accounts.EtcdOptions{}, "--store-key-file"},
		{"both", accounts.EtcdOptions{KeyFile: good, Plaintext: true}, "opposite things"},
	} {
		_, err := accounts.Open("etcd://127.0.0.1:2379/keyfob", accounts.Options{Dir: dir, Etcd: tc.o})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	if _, err := accounts.Open("etcd://127.0.0.1:2379/keyfob", accounts.Options{Dir: dir, Etcd: accounts.EtcdOptions{Plaintext: true}}); err != nil {
		t.Errorf("--store-plaintext was refused: %v", err)
	}
}

// TestEtcdUnreachable: a cluster nobody answers for is a
// *StoreUnavailableError within the request timeout, naming the location.
func TestEtcdUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	loc := "etcd://" + addr + "/keyfob"
	m, err := accounts.Open(loc, accounts.Options{Dir: t.TempDir(),
		Etcd: accounts.EtcdOptions{KeyFile: etcdtest.KeyFile(t, t.TempDir()), Timeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	start := time.Now()
	_, err = m.List(context.Background())
	var ue *accounts.StoreUnavailableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "changed nothing") {
		t.Fatalf("List: %v, want a StoreUnavailableError naming %s", err, addr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the error took %v", d)
	}
}

// TestEtcdRefusesWhatIsNotItsOwn: a prefix holding keys keyfob did not
// write, a wrong key, a value or meta of a newer keyfob, and a value that
// is not keyfob's are each a clear error naming what is wrong, and
// nothing under the prefix changes, not even on a write.
func TestEtcdRefusesWhatIsNotItsOwn(t *testing.T) {
	t.Parallel()
	e := newEtcdEnv(t, 1, sandbox.Options{})
	ctx := context.Background()
	a := e.minted(1, -time.Minute) // expired: a token request would refresh it
	e.seed(a)
	cli := e.c.Client()
	put := func(k, v string) {
		t.Helper()
		if _, err := cli.Put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	// check opens the store (with key, when set) and expects every
	// operation to fail with want, and the prefix to stay as it was.
	// A broken record fails what reads it; the store as a whole (Put of
	// another account) fails only when the store itself is not keyfob's.
	check := func(name string, o accounts.EtcdOptions, prefix string, want any, text string) {
		t.Helper()
		before := e.c.Dump(prefix + "/")
		m, err := accounts.Open(e.c.Location(prefix), accounts.Options{Dir: t.TempDir(), Auth: e.eng, Etcd: o})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		_, lerr := m.List(ctx)
		_, terr := m.Token(ctx, a.ID, time.Minute)
		errs := []error{lerr, terr}
		if !strings.Contains(text, "/accounts/") {
			_, perr := m.Put(ctx, e.minted(2, time.Hour))
			errs = append(errs, perr)
		}
		for _, err := range errs {
			if err == nil || !errors.As(err, want) || !strings.Contains(err.Error(), text) {
				t.Errorf("%s: %v, want a %T saying %q", name, err, want, text)
			}
		}
		if after := e.c.Dump(prefix + "/"); !reflect.DeepEqual(before, after) {
			t.Errorf("%s: the prefix changed", name)
		}
	}
	key := accounts.EtcdOptions{KeyFile: e.keyFile}

	put("someone/else/config", "x")
	check("foreign prefix", key, "someone", new(*accounts.ForeignStoreError), "did not write")
	put("newer/v2/meta", "{}")
	check("newer layout", key, "newer", new(*accounts.ForeignStoreError), "newer keyfob")

	other := accounts.EtcdOptions{KeyFile: etcdtest.KeyFile(t, t.TempDir())}
	check("wrong key", other, e.prefix, new(*accounts.StoreKeyError), "is not this store's key")
	check("no key for an encrypted store", accounts.EtcdOptions{Plaintext: true}, e.prefix, new(*accounts.StoreKeyError), "encrypted")
	if e.srv.Stats().Refreshes != 0 {
		t.Fatal("a refused store was refreshed upstream")
	}

	acctKey := e.prefix + "/v1/accounts/" + a.ID
	orig := e.raw()[acctKey]
	put(acctKey, strings.Replace(orig, `"version":3`, `"version":4`, 1))
	check("newer record", key, e.prefix, new(*accounts.VersionError), acctKey)
	put(acctKey, "not json at all")
	check("foreign record", key, e.prefix, new(*accounts.CorruptError), acctKey)
	put(acctKey, orig)

	metaKey := e.prefix + "/v1/meta"
	meta := e.raw()[metaKey]
	put(metaKey, strings.Replace(meta, `"version":3`, `"version":4`, 1))
	check("newer meta", key, e.prefix, new(*accounts.VersionError), metaKey)
	put(metaKey, `{"hello":"world"}`)
	check("foreign meta", key, e.prefix, new(*accounts.ForeignStoreError), "meta")
	put(metaKey, meta)
	if got, err := e.manager().Get(ctx, a.ID); err != nil || got.RefreshToken != a.RefreshToken {
		t.Fatalf("the store mended by hand: %v", err)
	}
}

// TestEtcdPlaintextStore: with --store-plaintext the store keeps tokens
// as they are, says so on every use, and refuses a key it was not made
// with (encrypting it is keyfob store rekey's work).
func TestEtcdPlaintextStore(t *testing.T) {
	t.Parallel()
	e := newEtcdEnv(t, 1, sandbox.Options{})
	ctx := context.Background()
	var notes []string
	m, err := accounts.Open(e.location(), accounts.Options{Dir: t.TempDir(), Etcd: accounts.EtcdOptions{Plaintext: true},
		Notice: func(s string) { notes = append(notes, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	a := e.minted(1, time.Hour)
	if _, err := m.Put(ctx, a); err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "plain text") {
		t.Errorf("notes: %q, want one warning of plain text", notes)
	}
	if v := e.raw()[e.prefix+"/v1/accounts/"+a.ID]; !strings.Contains(v, a.RefreshToken) {
		t.Error("a plain-text store sealed the token")
	}
	_, err = e.manager().List(ctx)
	if !errors.As(err, new(*accounts.StoreKeyError)) || !strings.Contains(err.Error(), "rekey") {
		t.Errorf("a key for a plain-text store: %v", err)
	}
}
