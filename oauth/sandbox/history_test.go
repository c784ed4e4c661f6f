package sandbox

import (
	"testing"
	"time"
)

// TestRefreshTokenPosition follows a grant through rotations, one of them
// from a rotated-out token still within its grace: positions count every
// token issued after, and SetRefreshGrace kills the rotated-out ones.
func TestRefreshTokenPosition(t *testing.T) {
	c := newClock()
	s := NewTest(t, Options{Now: c.Now, RefreshGrace: time.Hour})
	first := s.Mint(MintRequest{}).RefreshToken
	other := s.Mint(MintRequest{}).RefreshToken // another grant: never counted
	rotate := func(rt string) string {
		t.Helper()
		c.Advance(time.Second)
		r := refresh(t, s, FleetClientID, rt)
		if r.status != 200 {
			t.Fatalf("refresh: %d %s", r.status, r.body)
		}
		return r.str(t, "refresh_token")
	}
	second := rotate(first)
	orphan := rotate(first) // the previous token, reused within its grace
	for _, want := range []struct {
		rt  string
		pos int
	}{{first, 2}, {second, 1}, {orphan, 0}, {other, 0}} {
		if pos, ok := s.RefreshTokenPosition(want.rt); !ok || pos != want.pos {
			t.Errorf("position %d %v, want %d", pos, ok, want.pos)
		}
	}
	if _, ok := s.RefreshTokenPosition("NA_unknown"); ok {
		t.Error("an unknown token has a position")
	}
	if !s.RefreshTokenLive(first) {
		t.Fatal("a rotated-out token died within its grace")
	}
	s.SetRefreshGrace(0)
	if s.RefreshTokenLive(first) || !s.RefreshTokenLive(second) || !s.RefreshTokenLive(orphan) {
		t.Error("without a grace only the tokens never rotated out should live")
	}
}

// TestSetAccessTTL: refreshes after the change issue tokens of the new
// lifetime; 0 goes back to Tesla's 8 hours.
func TestSetAccessTTL(t *testing.T) {
	s := NewTest(t, Options{})
	rt := s.Mint(MintRequest{}).RefreshToken
	for _, c := range []struct{ set, want time.Duration }{{7 * time.Second, 7 * time.Second}, {0, 8 * time.Hour}} {
		s.SetAccessTTL(c.set)
		r := refresh(t, s, FleetClientID, rt)
		if got := r.json(t)["expires_in"]; got != c.want.Seconds() {
			t.Errorf("SetAccessTTL(%v): expires_in %v, want %v", c.set, got, c.want.Seconds())
		}
		rt = r.str(t, "refresh_token")
	}
}
