package accounts

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestConsumersAddListRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newStoreManager(t, nil)
	seed(t, m, Account{ID: "000000a1", Name: "car"}, Account{ID: "000000a2", Name: "truck"})
	c, cred, err := m.AddConsumer(ctx, "teslamate", "car")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cred, CredentialPrefix) || len(cred) != len(CredentialPrefix)+43 || c.AccountID != "000000a1" ||
		c.Hash != HashCredential(cred) {
		t.Fatalf("consumer %+v, credential of %d characters", c, len(cred))
	}
	if _, cred2, _ := m.AddConsumer(ctx, "ha", "truck"); cred2 == cred {
		t.Fatal("two consumers got the same credential")
	}
	data, _ := os.ReadFile(storeOf(m).path(consumersFile))
	if strings.Contains(string(data), cred) || !strings.Contains(string(data), c.Hash) {
		t.Fatal("the store must hold the credential's hash, never the credential")
	}
	for _, tc := range []struct {
		name, ref string
		want      error
	}{{"TeslaMate", "truck", ErrNameTaken}, {"x", "boat", ErrNotFound}, {"", "car", nil}, {"a\x1bb", "car", nil}} {
		_, _, err := m.AddConsumer(ctx, tc.name, tc.ref)
		var ne *NameError
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || (tc.want == nil && !errors.As(err, &ne)) {
			t.Errorf("AddConsumer(%q, %q) = %v", tc.name, tc.ref, err)
		}
	}
	if got, _ := reopen(t, m).Consumers(ctx); len(got) != 2 || got[0].Name != "teslamate" || got[1].Name != "ha" {
		t.Fatalf("consumers %+v", got)
	}
	if gone, err := m.RemoveConsumer(ctx, "TESLAMATE"); err != nil || gone.Name != "teslamate" {
		t.Fatalf("remove: %+v %v", gone, err)
	}
	if _, err := m.RemoveConsumer(ctx, "teslamate"); !errors.Is(err, ErrConsumerNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
}

// TestRemovingAnAccountRemovesItsConsumers: their credentials must not
// outlive the account, whichever way it is removed.
func TestRemovingAnAccountRemovesItsConsumers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newStoreManager(t, nil)
	seed(t, m, Account{ID: "000000a1", Name: "car"}, Account{ID: "000000a2", Name: "truck"})
	for _, n := range []string{"one", "two"} {
		if _, _, err := m.AddConsumer(ctx, n, "car"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := m.AddConsumer(ctx, "three", "truck"); err != nil {
		t.Fatal(err)
	}
	removed, err := m.Remove(ctx, "000000a1")
	if err != nil || len(removed.Consumers) != 2 {
		t.Fatalf("%v, removed %+v", err, removed.Consumers)
	}
	got, _ := reopen(t, m).Consumers(ctx)
	if len(got) != 1 || got[0].Name != "three" {
		t.Fatalf("consumers left: %+v", got)
	}
	// Revoking with RemoveConsumers removes them too; without, it says
	// which consumers are kept.
	m.Auth = &fakeAuth{now: time.Now}
	rev, err := m.Revoke(ctx, "000000a2", RevokeOptions{})
	if err != nil || rev.ConsumersRemoved || len(rev.Consumers) != 1 || rev.Consumers[0].Name != "three" {
		t.Fatalf("revoke kept %+v (%v)", rev.Consumers, err)
	}
	rev, err = m.Revoke(ctx, "000000a2", RevokeOptions{RemoveConsumers: true})
	if err != nil || !rev.ConsumersRemoved || len(rev.Consumers) != 1 {
		t.Fatalf("revoke --remove-consumers: %+v (%v)", rev, err)
	}
	if got, _ := reopen(t, m).Consumers(ctx); len(got) != 0 {
		t.Fatalf("consumers left: %+v", got)
	}
}

func TestRecordConsumerUsesKeepsTheLatest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newStoreManager(t, nil)
	seed(t, m, Account{ID: "000000a1", Name: "car"})
	c, _, _ := m.AddConsumer(ctx, "tm", "car")
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	uses := func(at time.Time, addr string) map[string]ConsumerUse {
		return map[string]ConsumerUse{c.Hash: {At: at, Address: addr}, HashCredential("gone"): {At: at}}
	}
	if err := m.RecordConsumerUses(ctx, uses(t0, "10.0.0.2:5000")); err != nil {
		t.Fatal(err)
	}
	_ = m.RecordConsumerUses(ctx, uses(t0.Add(-time.Minute), "10.0.0.9:1"))
	got, _ := reopen(t, m).Consumers(ctx)
	if len(got) != 1 || !got[0].LastUsedAt.Equal(t0) || got[0].LastAddress != "10.0.0.2:5000" {
		t.Fatalf("consumers %+v", got)
	}
}

// TestVersion1And2Migrate: a store of version 1 (no consumers) or 2 (with
// them) is taken over on first use: records for its accounts, its
// consumers, and the old file kept as accounts.json.bak-vN byte for byte.
func TestVersion1And2Migrate(t *testing.T) {
	t.Parallel()
	const hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	for v, body := range map[int]string{
		1: `{"version": 1, "generation": 7, "accounts": [{"id": "000000a1", "name": "home", "refresh_token": "NA_rt"}]}`,
		2: `{"version": 2, "generation": 7, "accounts": [{"id": "000000a1", "name": "home", "refresh_token": "NA_rt"}],
 "consumers": [{"name": "tm", "account_id": "000000a1", "credential_sha256": "` + hash + `", "created_at": "2026-01-01T00:00:00Z"}]}`,
	} {
		m := newStoreManager(t, nil)
		_ = os.MkdirAll(m.Dir(), 0o700)
		path := storeOf(m).path(StoreFile)
		_ = os.WriteFile(path, []byte(body), 0o600)
		var notes []string
		m.notice = func(n string) { notes = append(notes, n) }
		a, err := m.Find(context.Background(), "home")
		if err != nil || a.RefreshToken != "NA_rt" {
			t.Fatalf("v%d: %v %+v", v, err, a)
		}
		if bak, err := os.ReadFile(path + ".bak-v" + itoa(v)); err != nil || string(bak) != body {
			t.Fatalf("v%d backup: %v %q", v, err, bak)
		}
		if len(notes) == 0 || !strings.Contains(notes[0], "upgraded") {
			t.Errorf("v%d: no notice about the upgrade: %q", v, notes)
		}
		cs, _ := reopen(t, m).Consumers(context.Background())
		if (v == 2) != (len(cs) == 1) {
			t.Fatalf("v%d consumers: %+v", v, cs)
		}
		marker, _ := os.ReadFile(path)
		if !strings.Contains(string(marker), `"version": 3`) || strings.Contains(string(marker), "NA_rt") {
			t.Fatalf("v%d: accounts.json after the migration: %s", v, marker)
		}
	}
}

func TestBadConsumerRecordsAreRefused(t *testing.T) {
	t.Parallel()
	const hash = `"credential_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"`
	for name, consumers := range map[string]string{
		"same name":   `{"name": "a", ` + hash + `}, {"name": "A", "credential_sha256": "` + strings.Repeat("0", 64) + `"}`,
		"same hash":   `{"name": "a", ` + hash + `}, {"name": "b", ` + hash + `}`,
		"bad hash":    `{"name": "a", "credential_sha256": "keyfob_plaintext"}`,
		"no name":     `{"name": "", ` + hash + `}`,
		"escape name": `{"name": "a\u001b[2J", ` + hash + `}`,
	} {
		m := newStoreManager(t, nil)
		_ = os.MkdirAll(m.Dir(), 0o700)
		_ = os.WriteFile(storeOf(m).path(StoreFile), []byte(`{"version": 2, "accounts": [], "consumers": [`+consumers+`]}`), 0o600)
		var ce *CorruptError
		if _, err := m.List(context.Background()); !errors.As(err, &ce) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestRemoveScrubsTheBackups: the backups of older store versions
// (accounts.json.bak-v1, -v2) would keep a removed account's refresh
// token and client secret for good; remove (and revoke --remove) takes
// them out, and leaves the other accounts' alone.
func TestRemoveScrubsTheBackups(t *testing.T) {
	t.Parallel()
	m := newStoreManager(t, &fakeAuth{now: time.Now})
	_ = os.MkdirAll(m.Dir(), 0o700)
	path := storeOf(m).path(StoreFile)
	accts := `[{"id": "000000a1", "name": "home", "refresh_token": "NA_rt_home_secret", "client_secret": "cs_home_secret", "access_token": "at_home_secret"},
 {"id": "000000a2", "name": "work", "refresh_token": "NA_rt_work_secret", "client_secret": "cs_work_secret"},
 {"id": "000000a3", "name": "lab", "refresh_token": "NA_rt_lab_secret", "auth_code": "ac_lab_secret"}]`
	_ = os.WriteFile(path+".bak-v1", []byte(`{"version": 1, "accounts": `+accts+`}`), 0o600)
	_ = os.WriteFile(path, []byte(`{"version": 2, "accounts": `+accts+`, "consumers": []}`), 0o600)
	ctx := context.Background()
	if _, err := m.List(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Remove(ctx, "000000a1"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Revoke(ctx, "000000a3", RevokeOptions{Remove: true}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1", "2"} {
		data, err := os.ReadFile(path + ".bak-v" + v)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"NA_rt_home_secret", "cs_home_secret", "at_home_secret", "NA_rt_lab_secret", "ac_lab_secret"} {
			if strings.Contains(string(data), secret) {
				t.Errorf("bak-v%s still holds %s of a removed account", v, secret)
			}
		}
		if !strings.Contains(string(data), "NA_rt_work_secret") || !strings.Contains(string(data), "cs_work_secret") {
			t.Errorf("bak-v%s lost the secrets of an account that stays:\n%s", v, data)
		}
	}
}
