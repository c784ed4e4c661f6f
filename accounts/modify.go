package accounts

import (
	"context"
	"fmt"
	"strings"
)

// Edit changes the settings of the account with id under the store-wide
// lock: fn gets the account as it is now and changes it in place (its
// endpoints, redirect URI, region, audience or name), or fails, and then
// nothing is written. Whatever fn does, the account keeps its id, kind,
// client and tokens: an edit never costs a login. A new name must pass
// ValidateName and belong to no other account. Edit returns the account
// before and after the change.
func (m *Manager) Edit(ctx context.Context, id string, fn func(*Account) error) (before, after Account, err error) {
	err = m.Store.Update(ctx, func(f *File) error {
		a := f.Find(id)
		if a == nil {
			return fmt.Errorf("%w: it was removed meanwhile", ErrNotFound)
		}
		before = *a
		work := *a
		work.RequestedScopes = append([]string(nil), a.RequestedScopes...)
		if err := fn(&work); err != nil {
			return err
		}
		keepIdentity(&work, a)
		work.Name = strings.TrimSpace(work.Name)
		if work.Name != a.Name {
			if err := ValidateName(work.Name); err != nil {
				return err
			}
			if err := nameTaken(f, work.Name, id); err != nil {
				return err
			}
		}
		*a = work
		after = work
		return nil
	})
	return before, after, err
}

// keepIdentity puts back on a what no edit may change: what the account
// is, whose client it uses, and its tokens and their history.
func keepIdentity(a *Account, orig *Account) {
	a.ID, a.Kind, a.Grant = orig.ID, orig.Kind, orig.Grant
	a.ClientID, a.ClientSecret = orig.ClientID, orig.ClientSecret
	a.Email, a.Subject = orig.Email, orig.Subject
	a.GrantedScopes = orig.GrantedScopes
	a.TokenType, a.AccessToken, a.RefreshToken, a.IDToken = orig.TokenType, orig.AccessToken, orig.RefreshToken, orig.IDToken
	a.Expiry, a.AccessObtainedAt, a.RefreshObtainedAt, a.CreatedAt = orig.Expiry, orig.AccessObtainedAt, orig.RefreshObtainedAt, orig.CreatedAt
	a.LastRefresh, a.State, a.StateDetail = orig.LastRefresh, orig.State, orig.StateDetail
}
