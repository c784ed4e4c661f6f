package cli

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/accounts/etcdtest"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// etcdCLI is an env whose store is on an etcd cluster: every run gets
// --store and --store-key-file.
type etcdCLI struct {
	*env
	c   *etcdtest.Cluster
	loc string
	key string
}

func newEtcdCLI(t *testing.T, members int, opts sandbox.Options) *etcdCLI {
	t.Helper()
	return newEtcdCLIWith(t, members, opts, etcdtest.Options{})
}

// newEtcdCLIWith is newEtcdCLI with the cluster's options.
func newEtcdCLIWith(t *testing.T, members int, opts sandbox.Options, co etcdtest.Options) *etcdCLI {
	t.Helper()
	x := &etcdCLI{env: newEnv(t, opts), c: etcdtest.StartWith(t, members, co)}
	x.loc, x.key = x.c.Location("keyfob"), etcdtest.KeyFile(t, t.TempDir())
	return x
}

// args puts the store's flags before args. The race detector slows the
// cluster in the test process down: requests get more time than 5 s.
func (x *etcdCLI) args(args ...string) []string {
	return append([]string{"--store", x.loc, "--store-key-file", x.key, "--etcd-timeout", "30s"}, args...)
}

// etcdManager is a Manager of the cluster's store, as another machine has.
func (x *etcdCLI) etcdManager() *accounts.Manager {
	x.t.Helper()
	m, err := accounts.Open(x.loc, accounts.Options{Dir: x.t.TempDir(), Auth: &oauth.Engine{},
		Etcd: accounts.EtcdOptions{KeyFile: x.key, Timeout: 30 * time.Second}}) // as args
	if err != nil {
		x.t.Fatal(err)
	}
	x.t.Cleanup(func() { _ = m.Close() })
	return m
}

// TestStoreMigrateThereAndBack copies a directory store into etcd and
// back into another directory: the accounts and consumers come back the
// same, the stores copied from are untouched, and a store that already
// holds accounts is not copied into.
func TestStoreMigrateThereAndBack(t *testing.T) {
	t.Parallel()
	x := newEtcdCLI(t, 1, sandbox.Options{})
	a, b, c := x.minted("a0000001", "car", time.Hour), x.minted("a0000002", "truck", -time.Minute), x.minted("a0000003", "Zoë", time.Hour)
	a.ClientSecret = "the-secret"
	x.seed(a, b, c)
	x.mustRun("", "serve", "add", "teslamate", "--account", "car")
	x.mustRun("", "serve", "add", "ha", "--account", "truck")
	before := x.storeFiles()

	r := x.mustRun("", "--etcd-timeout", "30s", "store", "migrate", "--to", x.loc, "--to-key-file", x.key)
	if !strings.Contains(r.stderr, "Copied 3 accounts and 2 consumers") || !strings.Contains(r.stderr, "the same") {
		t.Fatalf("migrate to etcd: %s", r.stderr)
	}
	x.sameFiles("the directory store copied from", before)
	if r := x.mustRun("", x.args("list", "--json")...); !strings.Contains(r.stdout, `"Zoë"`) {
		t.Fatalf("list on etcd: %s", r.stdout)
	}
	etcdBefore := x.c.Dump("keyfob/")
	back := filepath.Join(t.TempDir(), "back")
	r = x.mustRun("", x.args("store", "migrate", "--to", "file://"+back)...)
	if !strings.Contains(r.stderr, "Copied 3 accounts and 2 consumers") {
		t.Fatalf("migrate back: %s", r.stderr)
	}
	if etcdAfter := x.c.Dump("keyfob/"); len(etcdAfter) != len(etcdBefore) {
		t.Fatalf("the etcd store copied from changed: %d keys, then %d", len(etcdBefore), len(etcdAfter))
	}
	orig := x.store()
	m, err := accounts.Open(back, accounts.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Accounts) != 3 || len(got.Consumers) != 2 {
		t.Fatalf("back: %d accounts, %d consumers", len(got.Accounts), len(got.Consumers))
	}
	for i, want := range orig.Accounts {
		have := got.Find(want.ID)
		want.Revision, have.Revision = 0, 0
		if have == nil || !sameAsJSON(t, want, *have) {
			t.Errorf("account %d (%s) came back different", i, want.Name)
		}
	}
	for _, want := range orig.Consumers {
		if c := got.FindConsumer(want.Name); c == nil || !sameAsJSON(t, want, *c) {
			t.Errorf("consumer %s came back different", want.Name)
		}
	}
	// Into a store that holds accounts: refused, nothing written.
	r = x.run("", x.args("store", "migrate", "--to", "file://"+back)...)
	if r.code != ExitError || !strings.Contains(r.stderr, "only into an empty store") {
		t.Fatalf("migrate into a full store: %d %s", r.code, r.stderr)
	}
}

// TestEtcdBadInputExitCodes: each wrong way to name or open an etcd
// store is one clear sentence on stderr with keyfob's exit code.
func TestEtcdBadInputExitCodes(t *testing.T) {
	t.Parallel()
	x := newEtcdCLI(t, 1, sandbox.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "etcd://" + ln.Addr().String() + "/keyfob"
	ln.Close()
	wrongKey := etcdtest.KeyFile(t, t.TempDir())
	loose := filepath.Join(t.TempDir(), "loose.key")
	if err := os.WriteFile(loose, []byte("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := x.etcdManager().Put(context.Background(), x.minted("a0000001", "car", time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no prefix", []string{"--store", "etcd://127.0.0.1:2379", "--store-key-file", x.key, "list"}, ExitUsage, "names no prefix"},
		{"no key", []string{"--store", x.loc, "list"}, ExitUsage, "--store-key-file"},
		{"loose key", []string{"--store", x.loc, "--store-key-file", loose, "list"}, ExitUsage, "chmod 600"},
		// Nothing answers there: keyfob gives up when --etcd-timeout ends.
		{"unreachable", []string{"--store", dead, "--store-key-file", x.key, "--etcd-timeout", "500ms", "token", "car"}, ExitError, "cannot reach the etcd cluster"},
		{"wrong key", []string{"--store", x.loc, "--store-key-file", wrongKey, "--etcd-timeout", "30s", "token", "car"}, ExitError, "is not this store's key"},
		{"plain text asked of an encrypted store", []string{"--store", x.loc, "--store-plaintext", "--etcd-timeout", "30s", "list"}, ExitError, "encrypted"},
		{"no such account", x.args("token", "bike"), ExitNoAccount, "bike"},
	} {
		r := x.run("", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%s: exit %d, stderr %q; want exit %d saying %q", tc.name, r.code, r.stderr, tc.code, tc.want)
		}
	}
	if r := x.mustRun("", x.args("token", "car")...); strings.TrimSpace(r.stdout) == "" {
		t.Fatal("no token")
	}
}

// TestEtcdPlaintextWarnsEveryCommand: a store without a key works with
// --store-plaintext, and every command says that etcd holds the tokens in
// plain text.
func TestEtcdPlaintextWarnsEveryCommand(t *testing.T) {
	t.Parallel()
	x := newEtcdCLI(t, 1, sandbox.Options{})
	x.seed(x.minted("a0000001", "car", time.Hour))
	plain := []string{"--store", x.c.Location("plain"), "--store-plaintext", "--etcd-timeout", "30s"}
	r := x.mustRun("", "--etcd-timeout", "30s", "store", "migrate", "--to", x.c.Location("plain"), "--to-plaintext")
	if !strings.Contains(r.stderr, "plain text") {
		t.Errorf("migrate into a plain-text store said nothing of it: %s", r.stderr)
	}
	for _, args := range [][]string{{"list"}, {"token", "car"}} {
		r := x.mustRun("", append(plain, args...)...)
		if !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, "plain text") {
			t.Errorf("%v: no warning: %s", args, r.stderr)
		}
	}
	// rekey encrypts it; then the key is needed.
	r = x.mustRun("", append(plain, "store", "rekey", "--new-key-file", x.key)...)
	if !strings.Contains(r.stderr, "Sealed 1 account") {
		t.Fatalf("rekey: %s", r.stderr)
	}
	for k, v := range x.c.Dump("plain/v1/accounts/") {
		if !strings.Contains(v, `"refresh_token":"kf1:`) {
			t.Errorf("%s is not sealed after rekey", k)
		}
	}
	if r := x.run("", append(plain, "list")...); r.code != ExitError {
		t.Errorf("plain text after rekey: %d %s", r.code, r.stderr)
	}
	x.mustRun("", "--store", x.c.Location("plain"), "--store-key-file", x.key, "--etcd-timeout", "30s", "token", "car")
}

// TestEtcdRekey seals an etcd store under a new key: the old key is
// refused afterwards (nothing changed by it), the new one reads every
// account, and no value is sealed under the old key any more.
func TestEtcdRekey(t *testing.T) {
	t.Parallel()
	x := newEtcdCLI(t, 1, sandbox.Options{})
	m := x.etcdManager()
	if _, err := m.Put(context.Background(), x.minted("a0000001", "car", time.Hour), x.minted("a0000002", "van", time.Hour)); err != nil {
		t.Fatal(err)
	}
	before := x.c.Dump("keyfob/v1/accounts/")
	newKey := etcdtest.KeyFile(t, t.TempDir())
	r := x.mustRun("", x.args("store", "rekey", "--new-key-file", newKey)...)
	if !strings.Contains(r.stderr, "Sealed 2 accounts") || !strings.Contains(r.stderr, newKey) {
		t.Fatalf("rekey: %s", r.stderr)
	}
	after := x.c.Dump("keyfob/v1/accounts/")
	for k, v := range after {
		if v == before[k] || strings.Count(v, "kf1:") < 2 {
			t.Errorf("%s was not sealed again", k)
		}
	}
	if r := x.run("", x.args("token", "car")...); r.code != ExitError || !strings.Contains(r.stderr, "not this store's key") {
		t.Fatalf("the old key after rekey: %d %s", r.code, r.stderr)
	}
	if r := x.mustRun("", "--store", x.loc, "--store-key-file", newKey, "--etcd-timeout", "30s", "token", "van"); strings.TrimSpace(r.stdout) == "" {
		t.Fatal("no token with the new key")
	}
	// A long-running process with the old key: it no longer writes.
	if _, err := m.Put(context.Background(), x.minted("a0000003", "bike", time.Hour)); err == nil {
		t.Fatal("a process with the old key wrote after the rekey")
	}
}

// TestBinaryLinksNoEtcdServer: the keyfob binary links the etcd client
// only; the server (which the tests start in-process) never ships.
func TestBinaryLinksNoEtcdServer(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "version", "-m", keyfobtest.Binary(t)).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, out)
	}
	mods := string(out)
	if !strings.Contains(mods, "go.etcd.io/etcd/client/v3") {
		t.Fatalf("the binary does not list the etcd client; is this keyfob?\n%s", mods)
	}
	for _, banned := range []string{"go.etcd.io/etcd/server", "go.etcd.io/raft", "go.etcd.io/bbolt", "accounts/etcdtest"} {
		if strings.Contains(mods, banned) {
			t.Errorf("the keyfob binary links %s", banned)
		}
	}
}

// sameAsJSON reports whether a and b encode alike.
func sameAsJSON(t *testing.T, a, b any) bool {
	t.Helper()
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return string(x) == string(y)
}
