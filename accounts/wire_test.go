package accounts

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// A region and audience the engine puts in a grant are corrections it
// trusts: Apply takes them even when the account has its own, and keeps
// the account's when the grant has none.
func TestApplyTakesACorrectedRegionAndAudience(t *testing.T) {
	t.Parallel()
	a := Account{Region: "na", Audience: "https://fleet-api.prd.na.vn.cloud.tesla.com"}
	a.Apply(Grant{AccessToken: "at"}, testNow)
	if a.Region != "na" || a.Audience != "https://fleet-api.prd.na.vn.cloud.tesla.com" {
		t.Fatalf("a grant without a region changed it: %q %q", a.Region, a.Audience)
	}
	a.Apply(Grant{AccessToken: "at", Region: "eu", Audience: "https://fleet-api.prd.eu.vn.cloud.tesla.com"}, testNow)
	if a.Region != "eu" || a.Audience != "https://fleet-api.prd.eu.vn.cloud.tesla.com" {
		t.Fatalf("the correction was not stored: %q %q", a.Region, a.Audience)
	}
	b := Account{}
	b.Apply(Grant{AccessToken: "at", Region: "cn"}, testNow)
	if b.Region != "cn" || b.Audience != "" {
		t.Fatalf("an account without a region: %q %q", b.Region, b.Audience)
	}
}

// A correction a refresh brings is what the manager saves.
func TestRefreshStoresTheCorrectedRegion(t *testing.T) {
	t.Parallel()
	a := expired()
	a.Region, a.Audience = "na", "https://na.example"
	m := newStoreManager(t, authFunc(func(context.Context, Account) (Grant, error) {
		return Grant{AccessToken: "at-1", Expiry: testNow.Add(time.Hour), Region: "eu", Audience: "https://eu.example"}, nil
	}))
	seed(t, m, a)
	r, err := m.Refresh(context.Background(), a, Explicit)
	if err != nil || !r.RegionChanged() || r.Before.Region != "na" {
		t.Fatalf("the refresh does not say it moved the account: %+v %v", r, err)
	}
	got, _ := reopen(t, m).Find(context.Background(), a.ID)
	if got.Region != "eu" || got.Audience != "https://eu.example" {
		t.Fatalf("stored %q %q", got.Region, got.Audience)
	}
}

// The plain-http opt-in is kept with the account, and only written when
// given.
func TestAllowInsecureHTTPRoundTrips(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	a := expired()
	b := expired()
	b.ID, b.Name, b.AllowInsecureHTTP = "000000b1", "work", true
	seed(t, m, a, b)
	data, err := json.Marshal(a)
	if err != nil || strings.Contains(string(data), "allow_insecure_http") {
		t.Fatalf("an account without the opt-in: %s %v", data, err)
	}
	got, _ := reopen(t, m).Find(context.Background(), "000000b1")
	plain, _ := reopen(t, m).Find(context.Background(), "000000a1")
	if !got.AllowInsecureHTTP || plain.AllowInsecureHTTP {
		t.Fatalf("after a reload: %v %v", got.AllowInsecureHTTP, plain.AllowInsecureHTTP)
	}
}

// An unconfirmed revocation keeps the tokens: the server's 200 proved
// nothing. The record is marked revoked, or removed when asked.
func TestRevokeUnconfirmedKeepsTheTokens(t *testing.T) {
	t.Parallel()
	unconfirmed := revokeWith(func(context.Context, Account) (Revocation, error) {
		return Revocation{Outcome: RevokeUnconfirmed, Detail: "answered 200, which proves nothing"}, nil
	})
	m := newStoreManager(t, unconfirmed)
	a := expired()
	b := expired()
	b.ID, b.Name = "000000b1", "work"
	seed(t, m, a, b)
	rev, err := m.Revoke(context.Background(), a.ID, RevokeOptions{})
	if err != nil || rev.Outcome != RevokeUnconfirmed {
		t.Fatal(rev, err)
	}
	got, _ := m.Find(context.Background(), a.ID)
	if got.State != StateRevoked || got.RefreshToken != a.RefreshToken || got.AccessToken != a.AccessToken {
		t.Fatalf("after an unconfirmed revocation: %+v", got)
	}
	if _, err := m.Revoke(context.Background(), b.ID, RevokeOptions{Remove: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Find(context.Background(), b.ID); err == nil {
		t.Fatal("revoke and remove kept the account")
	}
}

// revokeWith is an Authority whose revocation is f.
type revokeWith func(context.Context, Account) (Revocation, error)

func (f revokeWith) Refresh(context.Context, Account) (Grant, error) { return Grant{}, nil }
func (f revokeWith) Revoke(ctx context.Context, a Account) (Revocation, error) {
	return f(ctx, a)
}

// The redirect URI of a client id is remembered in config.json, next to
// the other settings, which stay.
func TestRedirectURIsAreRemembered(t *testing.T) {
	t.Parallel()
	s := newStoreManager(t, nil)
	ctx := context.Background()
	if err := s.SaveConfig(Config{Theme: "dracula"}); err != nil {
		t.Fatal(err)
	}
	if got := s.RedirectFor("app"); got != "" {
		t.Fatalf("nothing remembered yet, got %q", got)
	}
	if err := s.RememberRedirect(ctx, "app", "http://localhost:8976/callback"); err != nil {
		t.Fatal(err)
	}
	if err := s.RememberRedirect(ctx, "other", "https://example.com/cb"); err != nil {
		t.Fatal(err)
	}
	if got := s.RedirectFor("app"); got != "http://localhost:8976/callback" {
		t.Fatalf("app: %q", got)
	}
	c, err := s.Config()
	if err != nil || c.Theme != "dracula" || c.RedirectURIs["other"] != "https://example.com/cb" {
		t.Fatalf("config %+v %v", c, err)
	}
	if got := s.RedirectFor(""); got != "" {
		t.Fatalf("an empty client id: %q", got)
	}
}
