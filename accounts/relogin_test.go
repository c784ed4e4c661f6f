package accounts

import (
	"context"
	"testing"
)

// A new login of the same user and client updates the account in place
// and keeps its name, also when the tokens name no user (the legacy kind's
// opaque tokens): then the email says who it is. Another user's login is a
// new account.
func TestAddReplacesTheSameLoginAndKeepsItsName(t *testing.T) {
	ctx := context.Background()
	m := NewManager(Open(t.TempDir()), nil)
	legacy := Account{Kind: KindLegacy, ClientID: "c", Email: "driver@example.com", RefreshToken: "rt1",
		Endpoints: Endpoints{BaseURL: "https://owner.example"}}
	first, replaced, err := m.Add(ctx, withName(legacy, "old-app"))
	if err != nil || replaced {
		t.Fatalf("first login: %v, replaced %v", err, replaced)
	}
	again := legacy
	again.Email, again.RefreshToken = "Driver@Example.com", "rt2"
	got, replaced, err := m.Add(ctx, withName(again, "home"))
	if err != nil || !replaced || got.ID != first.ID || got.Name != "old-app" || got.RefreshToken != "rt2" {
		t.Fatalf("the same login again: %+v, replaced %v, %v; want old-app updated in place", got, replaced, err)
	}
	other := legacy
	other.Email = "someone@example.com"
	if _, replaced, err := m.Add(ctx, other); err != nil || replaced {
		t.Fatalf("another user's login replaced an account: %v %v", replaced, err)
	}
	if accts, _ := m.List(); len(accts) != 2 {
		t.Fatalf("%d accounts, want 2", len(accts))
	}
}

func withName(a Account, name string) Account { a.Name = name; return a }
