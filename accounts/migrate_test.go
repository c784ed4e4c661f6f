package accounts

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// oldStore writes a version 2 store of n accounts with a consumer each,
// and a recovery file of that keyfob holding a later refresh token for
// every tenth account, and returns the refresh token each account must
// end with.
func oldStore(t testing.TB, dir string, n int) map[string]string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	want := map[string]string{}
	var accts, newer []Account
	var cons []Consumer
	for i := range n {
		a := Account{ID: fmt.Sprintf("%08x", i), Name: fmt.Sprintf("car-%04d", i), Kind: KindFleet,
			Email: fmt.Sprintf("owner%d@example.com", i), ClientID: "app", AccessToken: "at-" + strconv.Itoa(i),
			RefreshToken: "rt-" + strconv.Itoa(i), RefreshObtainedAt: t0, Expiry: t0.Add(8 * time.Hour), CreatedAt: t0}
		accts = append(accts, a)
		want[a.ID] = a.RefreshToken
		cons = append(cons, Consumer{Name: "c" + a.ID, AccountID: a.ID, Hash: HashCredential(a.ID), CreatedAt: t0})
		if i%10 == 0 {
			a.RefreshToken, a.RefreshObtainedAt = "rt-newer-"+strconv.Itoa(i), t0.Add(time.Hour)
			newer = append(newer, a)
			want[a.ID] = a.RefreshToken
		}
	}
	write := func(name string, v any) {
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(StoreFile, map[string]any{"version": 2, "generation": 12, "accounts": accts, "consumers": cons})
	write(legacyRecovery, map[string]any{"version": 2, "accounts": newer})
	return want
}

// BenchmarkMigrate takes over version 2 stores of 300, 10,000 and 50,000
// accounts (the bar: 50,000 in under 10 s).
func BenchmarkMigrate(b *testing.B) {
	for _, n := range []int{300, 10000, 50000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for i := range b.N {
				b.StopTimer()
				dir := filepath.Join(b.TempDir(), strconv.Itoa(i))
				oldStore(b, dir, n)
				b.StartTimer()
				m, _ := Open("", Options{Dir: dir})
				accts, err := m.List(context.Background())
				if err != nil || len(accts) != n {
					b.Fatalf("%v, %d accounts", err, len(accts))
				}
			}
		})
	}
}

// TestOlderKeyfobsRecoveryFileIsTakenIn: a keyfob older than the records
// layout that was refreshing while the store was taken over finds the
// store newer than it knows and keeps its rotation in its own recovery
// file (accounts.json.recovery): the next run of this keyfob takes it in,
// at once, and removes the file.
func TestOlderKeyfobsRecoveryFileIsTakenIn(t *testing.T) {
	t.Parallel()
	m := newStoreManager(t, nil)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	seed(t, m, Account{ID: "000000a1", Name: "home", RefreshToken: "rt-old", RefreshObtainedAt: t0})
	legacy := filepath.Join(m.Dir(), legacyRecovery)
	newer := Account{ID: "000000a1", Name: "home", RefreshToken: "rt-newer", RefreshObtainedAt: t0.Add(time.Hour)}
	data, _ := json.Marshal(map[string]any{"version": 2, "accounts": []Account{newer}})
	if err := os.WriteFile(legacy, data, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	a, err := reopen(t, m).Get(context.Background(), "000000a1")
	if err != nil || a.RefreshToken != "rt-newer" {
		t.Fatalf("got %q (%v), want the older keyfob's rotation", a.RefreshToken, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("taking the file in took %v: it waited for a lock", took)
	}
	if _, err := os.Stat(legacy); !os.IsNotExist(err) {
		t.Fatalf("the older keyfob's recovery file is still there: %v", err)
	}
}

// TestOlderKeyfobsRecoveryFileRewrittenMeanwhileIsKept: an older keyfob
// writes its recovery file again (a later rotation) after this keyfob read
// it and while it was taking it in: the file is not removed, and its later
// token is taken in next.
func TestOlderKeyfobsRecoveryFileRewrittenMeanwhileIsKept(t *testing.T) {
	t.Parallel()
	m := newStoreManager(t, nil)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	seed(t, m, Account{ID: "000000a1", Name: "home", RefreshToken: "rt-old", RefreshObtainedAt: t0})
	legacy := filepath.Join(m.Dir(), legacyRecovery)
	writeLegacy := func(rt string, at time.Time) {
		data, _ := json.Marshal(map[string]any{"version": 2, "accounts": []Account{{ID: "000000a1", Name: "home", RefreshToken: rt, RefreshObtainedAt: at}}})
		tmp := legacy + ".tmp"
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, legacy); err != nil {
			t.Fatal(err)
		}
	}
	writeLegacy("rt-newer", t0.Add(time.Hour))
	s := storeOf(m)
	read := s.readLegacyRecovery()
	writeLegacy("rt-newest", t0.Add(2*time.Hour)) // the older keyfob, meanwhile
	for _, r := range read {
		r.removeUnchanged()
	}
	if _, err := os.Stat(legacy); err != nil {
		t.Fatalf("the rewritten recovery file was removed: %v", err)
	}
	if a, err := reopen(t, m).Get(context.Background(), "000000a1"); err != nil || a.RefreshToken != "rt-newest" {
		t.Fatalf("got %q (%v), want the older keyfob's latest rotation", a.RefreshToken, err)
	}
}
