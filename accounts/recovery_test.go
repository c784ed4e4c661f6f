package accounts

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// A second rotation that the store cannot take either must reach the
// recovery file even when the clock reads no later than it did for the
// first (a clock stepped back, or one too coarse to tell them apart):
// the token just obtained is the newest whatever the clock says.
func TestRecoveryKeepsEachRotationWhateverTheClock(t *testing.T) {
	privateState(t)
	m, _ := newManager(t)
	seed(t, m, expired())
	failing(m, stepWrite, inRecords(m))

	clock := testNow
	m.Now = func() time.Time { return clock }
	if _, err := m.Token(context.Background(), "home", 0); !errors.As(err, new(*UnsavedError)) {
		t.Fatalf("first refresh: %v", err)
	}
	for i, step := range []time.Duration{-time.Hour, 0} {
		clock = clock.Add(step)
		seen, err := m.Find(context.Background(), "home")
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Refresh(context.Background(), seen, Explicit)
		if !errors.As(err, new(*UnsavedError)) {
			t.Fatalf("refresh %d: %v", i+2, err)
		}
		want := fmt.Sprintf("rt-%d", i+2)
		after, err := reopen(t, m).Find(context.Background(), "home")
		if err != nil || after.RefreshToken != want {
			t.Fatalf("refresh %d got %s, but the store and its recovery file hold %s (%v)",
				i+2, want, after.RefreshToken, err)
		}
	}
}
