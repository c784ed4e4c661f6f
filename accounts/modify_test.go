package accounts

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestEditKeepsTokensAndIdentity(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	a := expired()
	a.Region, a.Audience, a.ClientID = "na", "https://na.example", "app"
	a.Endpoints.TokenURL = "https://old.example/token"
	other := expired()
	other.ID, other.Name, other.Email = "000000a2", "work", "work@example.com"
	seed(t, m, a, other)

	before, after, err := m.Edit(context.Background(), a.ID, func(e *Account) error {
		e.Endpoints.TokenURL = "https://new.example/token"
		e.Region, e.Audience, e.Name = "eu", "https://eu.example", "  house "
		// What an edit may not touch is put back.
		e.AccessToken, e.RefreshToken, e.ClientID, e.ID, e.Kind = "x", "y", "z", "ffffffff", KindOwner
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if before.Endpoints.TokenURL != "https://old.example/token" || after.Name != "house" || after.Region != "eu" {
		t.Fatalf("before %+v after %+v", before, after)
	}
	f := snapshot(t, m)
	s := f.Find(a.ID)
	if s == nil || s.AccessToken != "at-0" || s.RefreshToken != "rt-0" || s.ClientID != "app" || s.Kind != KindFleet ||
		s.Endpoints.TokenURL != "https://new.example/token" || s.Audience != "https://eu.example" {
		t.Fatalf("stored %+v", s)
	}

	// A failing fn or a taken name writes nothing.
	boom := errors.New("boom")
	if _, _, err := m.Edit(context.Background(), a.ID, func(e *Account) error { e.Region = "cn"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	if _, _, err := m.Edit(context.Background(), a.ID, func(e *Account) error { e.Name = "WORK"; return nil }); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("taken name: %v", err)
	}
	if _, _, err := m.Edit(context.Background(), a.ID, func(e *Account) error { e.Name = " "; return nil }); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("blank name: %v", err)
	}
	if _, _, err := m.Edit(context.Background(), "0000ffff", func(*Account) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	f = snapshot(t, m)
	if s := f.Find(a.ID); s.Region != "eu" || s.Name != "house" {
		t.Fatalf("a refused edit changed the store: %+v", s)
	}
}

func TestRefreshExpiresSoonBoundary(t *testing.T) {
	t.Parallel()
	a := expired()
	a.RefreshObtainedAt = testNow.Add(-RefreshTokenLifetime + RefreshEndingWithin + time.Hour) // 7 days 1 h left
	if a.RefreshExpiresSoon(testNow) {
		t.Error("7 days 1 h before the estimated end counts as soon")
	}
	a.RefreshObtainedAt = testNow.Add(-RefreshTokenLifetime + RefreshEndingWithin - time.Hour) // 6 days 23 h left
	if !a.RefreshExpiresSoon(testNow) {
		t.Error("6 days 23 h before the estimated end does not count as soon")
	}
	a.RefreshObtainedAt = testNow.Add(-RefreshTokenLifetime - time.Hour)
	if !a.RefreshExpiresSoon(testNow) {
		t.Error("a refresh token past its estimated end does not count")
	}
	a.RefreshToken = ""
	if a.RefreshExpiresSoon(testNow) {
		t.Error("no refresh token, yet ending soon")
	}
	a.RefreshToken, a.RefreshObtainedAt = "rt", time.Time{}
	if a.RefreshExpiresSoon(testNow) {
		t.Error("no estimate, yet ending soon")
	}
}
