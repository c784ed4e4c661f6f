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
	ctx := context.Background()
	s := newStore(t)
	seed(t, s, Account{ID: "000000a1", Name: "car"}, Account{ID: "000000a2", Name: "truck"})
	m := NewManager(s, nil)
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
	data, _ := os.ReadFile(s.Path())
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
	if got, _ := m.Consumers(); len(got) != 2 || got[0].Name != "teslamate" || got[1].Name != "ha" {
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
	ctx := context.Background()
	s := newStore(t)
	seed(t, s, Account{ID: "000000a1", Name: "car"}, Account{ID: "000000a2", Name: "truck"})
	m := NewManager(s, nil)
	for _, n := range []string{"one", "two"} {
		if _, _, err := m.AddConsumer(ctx, n, "car"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := m.AddConsumer(ctx, "three", "truck"); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove(ctx, "000000a1"); err != nil {
		t.Fatal(err)
	}
	got, _ := m.Consumers()
	if len(got) != 1 || got[0].Name != "three" {
		t.Fatalf("consumers left: %+v", got)
	}
}

func TestRecordConsumerUsesKeepsTheLatest(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	seed(t, s, Account{ID: "000000a1", Name: "car"})
	m := NewManager(s, nil)
	c, _, _ := m.AddConsumer(ctx, "tm", "car")
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	uses := func(at time.Time, addr string) map[string]ConsumerUse {
		return map[string]ConsumerUse{c.Hash: {At: at, Address: addr}, HashCredential("gone"): {At: at}}
	}
	if err := m.RecordConsumerUses(ctx, uses(t0, "10.0.0.2:5000")); err != nil {
		t.Fatal(err)
	}
	_ = m.RecordConsumerUses(ctx, uses(t0.Add(-time.Minute), "10.0.0.9:1"))
	got, _ := m.Consumers()
	if len(got) != 1 || !got[0].LastUsedAt.Equal(t0) || got[0].LastAddress != "10.0.0.2:5000" {
		t.Fatalf("consumers %+v", got)
	}
}

// TestVersion1MigratesToConsumers: a store of version 1 loads, and the
// first write upgrades it to version 2 keeping accounts.json.bak-v1.
func TestVersion1MigratesToConsumers(t *testing.T) {
	s := newStore(t)
	_ = os.MkdirAll(s.Dir(), 0o700)
	body := `{"version": 1, "generation": 7, "accounts": [{"id": "000000a1", "name": "home", "refresh_token": "NA_rt"}]}`
	_ = os.WriteFile(s.Path(), []byte(body), 0o600)
	m := NewManager(s, nil)
	if f, err := s.Load(); err != nil || f.Version != 2 || f.Find("000000a1") == nil {
		t.Fatalf("load: %v %+v", err, f)
	}
	if _, _, err := m.AddConsumer(context.Background(), "tm", "home"); err != nil {
		t.Fatal(err)
	}
	if bak, err := os.ReadFile(s.Path() + ".bak-v1"); err != nil || string(bak) != body {
		t.Fatalf("backup: %v %q", err, bak)
	}
	data, _ := os.ReadFile(s.Path())
	if versionOf(data) != 2 || !strings.Contains(string(data), `"credential_sha256"`) || !strings.Contains(string(data), "NA_rt") {
		t.Fatalf("upgraded store:\n%s", data)
	}
}

func TestBadConsumerRecordsAreRefused(t *testing.T) {
	const hash = `"credential_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"`
	for name, consumers := range map[string]string{
		"same name":   `{"name": "a", ` + hash + `}, {"name": "A", "credential_sha256": "` + strings.Repeat("0", 64) + `"}`,
		"same hash":   `{"name": "a", ` + hash + `}, {"name": "b", ` + hash + `}`,
		"bad hash":    `{"name": "a", "credential_sha256": "keyfob_plaintext"}`,
		"no name":     `{"name": "", ` + hash + `}`,
		"escape name": `{"name": "a\u001b[2J", ` + hash + `}`,
	} {
		s := newStore(t)
		_ = os.MkdirAll(s.Dir(), 0o700)
		_ = os.WriteFile(s.Path(), []byte(`{"version": 2, "accounts": [], "consumers": [`+consumers+`]}`), 0o600)
		var ce *CorruptError
		if _, err := s.Load(); !errors.As(err, &ce) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
