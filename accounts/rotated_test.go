package accounts

import (
	"context"
	"errors"
	"testing"
	"time"
)

// unusableAuthority answers every refresh like a server that rotated the
// refresh token but sent an answer keyfob cannot use.
type unusableAuthority struct{}

func (unusableAuthority) Refresh(context.Context, Account) (Grant, error) {
	return Grant{RefreshToken: "rotated-refresh-token"}, errors.New("the answer's token type is not bearer")
}

func (unusableAuthority) Revoke(context.Context, Account) (Revocation, error) {
	return Revocation{}, nil
}

// A refresh whose answer cannot be used still keeps the new refresh token
// it carried: the server may have spent the old one.
func TestUnusableAnswerKeepsItsRotatedRefreshToken(t *testing.T) {
	t.Parallel()
	m := newStoreManager(t, unusableAuthority{})
	ctx := context.Background()
	a := Account{ID: "0000000a", Name: "car", Kind: KindFleet, ClientID: "c", RefreshToken: "old",
		AccessToken: "at", Expiry: time.Now().Add(-time.Minute), Rotation: 3}
	seed(t, m, a)
	if _, err := m.Refresh(ctx, a, Explicit); err == nil {
		t.Fatal("an unusable answer was taken for a refresh")
	}
	got, err := reopen(t, m).Find(ctx, "car")
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken != "rotated-refresh-token" || got.AccessToken != "at" || got.LastRefresh == nil || got.LastRefresh.OK ||
		got.Rotation != 4 {
		t.Fatalf("stored refresh %q access %q last %+v; want the rotated refresh token kept and the failure noted",
			got.RefreshToken, got.AccessToken, got.LastRefresh)
	}
}
