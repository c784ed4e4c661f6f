package accounts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	ok := []string{"home", "Tesla Model 3 — garage", strings.Repeat("x", MaxNameLength),
		strings.Repeat("é", MaxNameLength), "🚗 car"}
	for _, name := range ok {
		if err := ValidateName(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	bad := map[string]string{
		"":                                   "is blank",
		"   ":                                "is blank",
		strings.Repeat("x", MaxNameLength+1): "65 characters long",
		"car\x1b[31m":                        "control character U+001B",
		"two\nlines":                         "control character U+000A",
		"tab\there":                          "control character U+0009",
		"c1\u009bcontrol":                    "control character U+009B",
		"evil\u202eflip":                     "control character U+202E",
		"bad\xffutf8":                        "not valid UTF-8",
	}
	for name, problem := range bad {
		err := ValidateName(name)
		var ne *NameError
		if !errors.As(err, &ne) || !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), problem) {
			t.Errorf("%q: got %v, want a NameError saying %q", name, err, problem)
			continue
		}
		if strings.ContainsAny(err.Error(), "\x1b\n\t\u009b\u202e") {
			t.Errorf("%q: the message carries the control character: %q", name, err.Error())
		}
	}
}

// TestNamesAreValidatedWhenSet checks Add, Import and Rename refuse bad
// names before anything is spent or written.
func TestNamesAreValidatedWhenSet(t *testing.T) {
	t.Parallel()
	m, auth := newManager(t)
	ctx := context.Background()
	seed(t, m, expired())
	for _, name := range []string{" ", strings.Repeat("n", 65), "a\x1bb"} {
		if _, err := m.Add(ctx, Account{Name: name, Kind: KindFleet, AccessToken: "x"}); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Add %q: %v", name, err)
		}
		if _, err := m.Import(ctx, Account{Name: name, Kind: KindFleet, RefreshToken: "rt"}); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Import %q: %v", name, err)
		}
		if _, err := m.Rename(ctx, "000000a1", name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Rename %q: %v", name, err)
		}
	}
	if auth.calls.Load() != 0 {
		t.Fatal("an import with a bad name spent the refresh token")
	}
	if got, err := m.Rename(ctx, "000000a1", "  garage  "); err != nil || got.Name != "garage" {
		t.Fatalf("Rename trims: %q %v", got.Name, err)
	}
	if f := snapshot(t, m); len(f.Accounts) != 1 {
		t.Fatalf("a bad name was saved: %+v", f.Accounts)
	}
}

func TestDefaultNameFromAServerEmailIsValid(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	saved, err := m.Add(context.Background(), Account{Kind: KindFleet, Subject: "s",
		Email: "\x1b]0;evil\x07" + strings.Repeat("d", 80) + "@example.com", AccessToken: "x"})
	a := saved.Account
	if err != nil || ValidateName(a.Name) != nil {
		t.Fatalf("derived name %q: %v", a.Name, err)
	}
}

func TestEffectiveMargin(t *testing.T) {
	t.Parallel()
	const margin = 5 * time.Minute
	cases := []struct {
		name     string
		obtained time.Time
		expiry   time.Time
		want     time.Duration
	}{
		{"8 h token keeps the margin", testNow, testNow.Add(8 * time.Hour), margin},
		{"4 s token: half its life", testNow, testNow.Add(4 * time.Second), 2 * time.Second},
		{"10 min token: exactly the margin", testNow, testNow.Add(10 * time.Minute), margin},
		{"unknown expiry", testNow, time.Time{}, margin},
		{"unknown issue time", time.Time{}, testNow.Add(4 * time.Second), margin},
		{"expiry before issue", testNow, testNow.Add(-time.Second), margin},
	}
	for _, c := range cases {
		a := Account{AccessToken: "x", AccessObtainedAt: c.obtained, Expiry: c.expiry}
		if got := a.EffectiveMargin(margin); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		want := time.Time{}
		if !c.expiry.IsZero() {
			want = c.expiry.Add(-c.want)
		}
		if got := a.RefreshDue(margin); !got.Equal(want) {
			t.Errorf("%s: due %v, want %v", c.name, got, want)
		}
	}
}

// TestNumberedNamesStayValid: a name given in full length that has to be
// numbered (an account back from a recovery file under a name another
// account took meanwhile) is cut to make room for its number, so that the
// store never holds a name ValidateName refuses.
func TestNumberedNamesStayValid(t *testing.T) {
	for _, base := range []string{strings.Repeat("x", MaxNameLength), strings.Repeat("é", MaxNameLength-1) + " "} {
		for _, n := range []int{2, 10, 12345} {
			if got := numberedName(base, n); ValidateName(got) != nil || !strings.HasSuffix(got, fmt.Sprint("-", n)) {
				t.Errorf("numberedName(%q, %d) = %q: %v", base, n, got, ValidateName(got))
			}
		}
	}
	privateState(t)
	m, _ := newManager(t)
	long := strings.Repeat("é", MaxNameLength)
	seed(t, m, Account{ID: "000000a1", Name: long, RefreshToken: "rt-a"})
	back := Account{ID: "000000b2", Name: long, Kind: KindFleet, RefreshToken: "rt-b", Rotation: 1}
	if _, err := storeOf(m).saveRecovery(back); err != nil {
		t.Fatal(err)
	}
	if _, err := reopen(t, m).Put(context.Background(), Account{ID: "000000c3", Name: "other"}); err != nil {
		t.Fatal(err)
	}
	got := snapshot(t, m)
	b := got.Find("000000b2")
	if b == nil || b.RefreshToken != "rt-b" || ValidateName(b.Name) != nil || strings.EqualFold(b.Name, long) {
		t.Fatalf("the account back from its recovery file: %+v", b)
	}
}

// TestNameFoundPastAnUnreadableRecord: a name whose index line also
// points at another account, whose record is unreadable, still finds its
// account; a name only the unreadable record could have says why it
// cannot be looked up.
func TestNameFoundPastAnUnreadableRecord(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	ctx := context.Background()
	seed(t, m, Account{ID: "000000a1", Name: "garage"})
	if _, err := m.Rename(ctx, "000000a1", "cabin"); err != nil {
		t.Fatal(err)
	}
	seed(t, m, Account{ID: "000000b2", Name: "garage"})
	// Both ids are on garage's line now, or were: break the first record.
	if err := os.WriteFile(storeOf(m).recordPath("000000a1"), []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := storeOf(m)
	addIndexLine(t, s, "garage", "000000a1")
	a, ok, err := s.named("garage")
	if err != nil || !ok || a.ID != "000000b2" {
		t.Fatalf("named(garage) = %+v %v %v, want the readable account", a.ID, ok, err)
	}
	if _, ok, err := s.named("cabin"); ok || err == nil {
		t.Fatalf("named(cabin) = %v %v, want the broken record's error", ok, err)
	}
}

// addIndexLine adds a line for name and id to the name index, as a crash
// between a rename's steps leaves one.
func addIndexLine(t *testing.T, s *fileStore, name, id string) {
	t.Helper()
	key := foldName(name)
	path := s.path(namesDir, shardOf(key))
	entries, err := readShard(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, encodeShard(append(entries, indexEntry{key, id})), 0o600); err != nil {
		t.Fatal(err)
	}
}
