package accounts

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// watchEvery is how often the watchers of these tests look.
const watchEvery = 20 * time.Millisecond

// quiet fails when w reports a change within a few of its intervals.
func quiet(t *testing.T, w *Watcher, what string) {
	t.Helper()
	select {
	case <-w.Changed():
		t.Fatalf("the watcher reported this process's own %s as a change", what)
	case <-time.After(10 * watchEvery):
	}
}

// changed waits for w to report a change.
func changed(t *testing.T, w *Watcher, what string) {
	t.Helper()
	select {
	case <-w.Changed():
	case <-time.After(5 * time.Second):
		t.Fatalf("the watcher did not report %s", what)
	}
}

// TestWatcherIgnoresItsOwnWrites: what the process changes through its
// Manager is in the watcher at once and is not reported back; what another
// process changes is reported within an interval.
func TestWatcherIgnoresItsOwnWrites(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	seed(t, m, expired(), Account{ID: "000000b1", Name: "work"})
	ctx := context.Background()
	w, err := m.Watch(ctx, watchEvery)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if len(w.Accounts()) != 2 {
		t.Fatalf("watcher holds %d accounts", len(w.Accounts()))
	}

	if _, err := m.Rename(ctx, "000000b1", "office"); err != nil {
		t.Fatal(err)
	}
	if a, _ := w.Account("000000b1"); a.Name != "office" {
		t.Fatalf("own rename not in the watcher: %q", a.Name)
	}
	quiet(t, w, "rename")
	if _, err := m.Token(ctx, "home", 0); err != nil {
		t.Fatal(err)
	}
	if a, _ := w.Account("000000a1"); a.AccessToken != "at-1" {
		t.Fatalf("own refresh not in the watcher: %q", a.AccessToken)
	}
	quiet(t, w, "refresh")
	added, err := m.Add(ctx, Account{Kind: KindFleet, Subject: "s9", Email: "new@example.com", AccessToken: "x"})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := m.AddConsumer(ctx, "tm", "office")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := w.Consumer(c.Hash); !ok {
		t.Fatal("own consumer not in the watcher")
	}
	if _, err := m.Remove(ctx, added.Account.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.Account(added.Account.ID); ok || len(w.Accounts()) != 2 {
		t.Fatal("own removal not in the watcher")
	}
	quiet(t, w, "add, consumer and removal")

	other := reopen(t, m)
	if _, err := other.Rename(ctx, "000000a1", "house"); err != nil {
		t.Fatal(err)
	}
	changed(t, w, "another process's rename")
	if a, _ := w.Account("000000a1"); a.Name != "house" || a.AccessToken != "at-1" {
		t.Fatalf("after another process's rename: %+v", a)
	}
	if _, err := other.RemoveConsumer(ctx, "tm"); err != nil {
		t.Fatal(err)
	}
	w.CheckConsumers()
	if _, ok := w.Consumer(c.Hash); ok {
		t.Fatal("a consumer another process removed is still there after CheckConsumers")
	}
	changed(t, w, "another process's removal of a consumer")
	if _, err := other.Remove(ctx, "000000b1"); err != nil {
		t.Fatal(err)
	}
	changed(t, w, "another process's removal")
	if _, ok := w.Account("000000b1"); ok {
		t.Fatal("an account another process removed is still there")
	}
}

// TestWatcherSaysWhenTheStoreCannotBeRead: a record broken by hand sets
// Err (so that the token service refuses until it can read again); mended,
// Err clears.
func TestWatcherSaysWhenTheStoreCannotBeRead(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	seed(t, m, expired())
	w, err := m.Watch(context.Background(), watchEvery)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	path := storeOf(m).recordPath("000000a1")
	good, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	changed(t, w, "a broken record")
	if w.AccountErr("000000a1") == nil || w.Err() != nil {
		t.Fatalf("a broken record: its error %v, the store's %v; want it on the account alone", w.AccountErr("000000a1"), w.Err())
	}
	if a, ok := w.Account("000000a1"); !ok || a.RefreshToken != "rt-0" {
		t.Fatal("the last good copy of the broken account is gone")
	}
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	changed(t, w, "a mended record")
	if w.AccountErr("000000a1") != nil {
		t.Fatalf("the error stayed after the record was mended: %v", w.AccountErr("000000a1"))
	}
	consumers := storeOf(m).path(consumersFile)
	if err := os.WriteFile(consumers, []byte("{\"version\": 3, \"consumers\": [{\"name\": \"\"}]}"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.CheckConsumers()
	if w.Err() == nil {
		t.Fatal("no error for a broken consumers file after CheckConsumers")
	}
}

// TestWatcherSeesARecordEditedInPlace: an edit that writes the record in
// place (not renamed into the directory, as keyfob writes) shows up too,
// within the full look every few seconds.
func TestWatcherSeesARecordEditedInPlace(t *testing.T) {
	t.Parallel() // a long one, mostly waiting: it runs beside the others
	m, _ := newManager(t)
	seed(t, m, expired())
	w, err := m.Watch(context.Background(), watchEvery)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	path := storeOf(m).recordPath("000000a1")
	time.Sleep(1100 * time.Millisecond) // past the directory's recent window
	data, _ := os.ReadFile(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write(bytes.Replace(data, []byte(`"home"`), []byte(`"house"`), 1))
	_ = f.Close()
	deadline := time.Now().Add(fullScanEvery + 3*time.Second)
	for time.Now().Before(deadline) {
		if a, _ := w.Account("000000a1"); a.Name == "house" {
			return
		}
		time.Sleep(watchEvery)
	}
	t.Fatal("a record edited in place was never seen")
}

// TestEditDuringARefreshWithAWatcher: an edit of an account whose refresh
// is at the server waits for it, while the watcher looks at the store over
// and over (another process writes): both finish as soon as the refresh
// does, neither waits out a lock's timeout.
func TestEditDuringARefreshWithAWatcher(t *testing.T) {
	t.Parallel()
	m, auth := newManager(t)
	auth.delay = 500 * time.Millisecond
	other := expired()
	other.ID, other.Name = "000000b1", "work"
	seed(t, m, expired(), other)
	w, err := m.Watch(context.Background(), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	elsewhere := reopen(t, m)
	stop := make(chan struct{})
	var busy sync.WaitGroup
	// Waited for before the test's directories go: a rename still under
	// way would write into them.
	defer busy.Wait()
	busy.Go(func() { // another process keeps the watcher busy
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = elsewhere.Rename(context.Background(), "000000b1", fmt.Sprintf("work-%d", i%2))
		}
	})
	defer close(stop)
	start := time.Now()
	done := make(chan error, 2)
	go func() { _, err := m.Token(context.Background(), "home", 0); done <- err }()
	time.Sleep(100 * time.Millisecond)
	go func() { _, err := m.Rename(context.Background(), "000000a1", "house"); done <- err }()
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the refresh and the edit are still waiting for each other")
		}
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the refresh and the edit took %v", took)
	}
}
