package accounts

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// A new login of the same user and client updates the account in place
// and keeps its name, also when the tokens name no user (the legacy kind's
// opaque tokens): then the email says who it is. Another user's login is a
// new account.
func TestAddReplacesTheSameLoginAndKeepsItsName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newStoreManager(t, nil)
	legacy := Account{Kind: KindLegacy, ClientID: "c", Email: "driver@example.com", RefreshToken: "rt1",
		Endpoints: Endpoints{BaseURL: "https://owner.example"}}
	first, err := m.Add(ctx, withName(legacy, "old-app"))
	if err != nil || first.Replaced {
		t.Fatalf("first login: %v, %+v", err, first)
	}
	again := legacy
	again.Email, again.RefreshToken = "Driver@Example.com", "rt2"
	got, err := m.Add(ctx, withName(again, "home"))
	if err != nil || !got.Replaced || got.Account.ID != first.Account.ID || got.Account.Name != "old-app" ||
		got.Account.RefreshToken != "rt2" || got.NameNotUsed != "home" {
		t.Fatalf("the same login again: %+v, %v; want old-app updated in place, home named as not used", got, err)
	}
	if got.Account.Rotation <= first.Account.Rotation {
		t.Errorf("the new login's refresh token did not count as a rotation: %d then %d", first.Account.Rotation, got.Account.Rotation)
	}
	other := legacy
	other.Email = "someone@example.com"
	if s, err := m.Add(ctx, other); err != nil || s.Replaced {
		t.Fatalf("another user's login replaced an account: %+v %v", s, err)
	}
	if accts, _ := reopen(t, m).List(ctx); len(accts) != 2 {
		t.Fatalf("%d accounts, want 2", len(accts))
	}
}

func withName(a Account, name string) Account { a.Name = name; return a }

// TestImportOfAHeldRefreshTokenRefreshesItsAccount: importing the refresh
// token an account already holds, under whatever name and client, is a
// refresh of that account: no second account, no token spent for another
// client, and the name asked for is said not used.
func TestImportOfAHeldRefreshTokenRefreshesItsAccount(t *testing.T) {
	t.Parallel()
	m, auth := newManager(t)
	car := expired()
	car.Name = "car"
	seed(t, m, car)
	got, err := m.Import(context.Background(), Account{Name: "car3", Kind: KindFleet, ClientID: "another-app", RefreshToken: car.RefreshToken})
	if err != nil || !got.Replaced || got.Account.ID != car.ID || got.Account.RefreshToken != "rt-1" || got.NameNotUsed != "car3" {
		t.Fatalf("got %+v %v; want car refreshed in place and car3 named as not used", got, err)
	}
	if accts, _ := reopen(t, m).List(context.Background()); len(accts) != 1 || auth.calls.Load() != 1 {
		t.Fatalf("%d accounts after %d refreshes, want 1 and 1", len(accts), auth.calls.Load())
	}
}

// notSentError is a refresh that never reached the server.
type notSentError struct{}

func (notSentError) Error() string { return "cannot reach auth.example (connection refused)" }
func (notSentError) NotSent() bool { return true }

// TestImportSaysWhetherTheServerAnswered: an import whose refresh never
// reached the server does not say the server refused the token (it was
// not used, and can be imported again); one the server refused does.
func TestImportSaysWhetherTheServerAnswered(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want string
	}{
		{notSentError{}, "the refresh token could not be tried, so it was not used"},
		{fmt.Errorf("auth.example answered 400 invalid_grant: %w", ErrLoginRequired), "the server did not accept the refresh token"},
	} {
		m := newStoreManager(t, &failingAuth{err: c.err})
		_, err := m.Import(context.Background(), Account{Kind: KindFleet, ClientID: "app", RefreshToken: "NA_rt"})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want %q", c.err, err, c.want)
		}
	}
}
