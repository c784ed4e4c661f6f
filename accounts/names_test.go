package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateName(t *testing.T) {
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
	m, _ := newManager(t)
	saved, err := m.Add(context.Background(), Account{Kind: KindFleet, Subject: "s",
		Email: "\x1b]0;evil\x07" + strings.Repeat("d", 80) + "@example.com", AccessToken: "x"})
	a := saved.Account
	if err != nil || ValidateName(a.Name) != nil {
		t.Fatalf("derived name %q: %v", a.Name, err)
	}
}

func TestEffectiveMargin(t *testing.T) {
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
