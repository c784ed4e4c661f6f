package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Edit changes the settings of the account with id: fn gets the account as
// it is now and changes it in place (its endpoints, redirect URI, region,
// audience or name), or fails, and then nothing is written. Whatever fn
// does, the account keeps its id, kind, client and tokens: an edit never
// costs a login. A new name must pass ValidateName and belong to no other
// account. Edit waits for a refresh of the account under way, and returns
// the account before and after the change.
func (m *Manager) Edit(ctx context.Context, id string, fn func(*Account) error) (before, after Account, err error) {
	cur, err := m.Get(ctx, id)
	if err != nil {
		return Account{}, Account{}, err
	}
	unlock, err := m.lockAccount(ctx, id, cur.Name)
	if err != nil {
		return Account{}, Account{}, err
	}
	defer unlock()
	if _, err := m.adopt(ctx, cur); err != nil {
		return cur, cur, err
	}
	defer m.holdPublish()() // after the account's lock: see holdPublish
	err = m.update(ctx, func(t tx) error {
		a, ok, err := t.get(id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: it was removed meanwhile", ErrNotFound)
		}
		before = a
		work := a
		work.RequestedScopes = append([]string(nil), a.RequestedScopes...)
		if err := fn(&work); err != nil {
			return err
		}
		keepIdentity(&work, &a)
		work.Name = strings.TrimSpace(work.Name)
		if work.Name != a.Name {
			if err := ValidateName(work.Name); err != nil {
				return err
			}
			if err := nameTaken(t, work.Name, id); err != nil {
				return err
			}
		}
		t.put(work)
		after = work
		return nil
	})
	if err == nil {
		after.Revision++
		m.published(after)
	}
	return before, after, err
}

// keepIdentity puts back on a what no edit may change: what the account
// is, whose client it uses, and its tokens and their history.
func keepIdentity(a *Account, orig *Account) {
	a.ID, a.Kind, a.Grant = orig.ID, orig.Kind, orig.Grant
	a.ClientID, a.ClientSecret, a.AuthCode = orig.ClientID, orig.ClientSecret, orig.AuthCode
	a.Email, a.Subject = orig.Email, orig.Subject
	a.GrantedScopes = orig.GrantedScopes
	a.TokenType, a.AccessToken, a.RefreshToken, a.IDToken = orig.TokenType, orig.AccessToken, orig.RefreshToken, orig.IDToken
	a.Expiry, a.AccessObtainedAt, a.RefreshObtainedAt, a.CreatedAt = orig.Expiry, orig.AccessObtainedAt, orig.RefreshObtainedAt, orig.CreatedAt
	a.LastRefresh, a.State, a.StateDetail = orig.LastRefresh, orig.State, orig.StateDetail
	a.Rotation, a.Revision = orig.Rotation, orig.Revision
}

// Rename gives the account with id a new, unique name, which must pass
// ValidateName.
func (m *Manager) Rename(ctx context.Context, id, name string) (Account, error) {
	name = strings.TrimSpace(name)
	if err := ValidateName(name); err != nil {
		return Account{}, err
	}
	_, after, err := m.Edit(ctx, id, func(a *Account) error {
		a.Name = name
		return nil
	})
	return after, err
}

// Removed is what Remove took out of the store.
type Removed struct {
	Account Account
	// Consumers are the consumers of the token service that got the
	// account's tokens; they were removed with it.
	Consumers []Consumer
}

// Remove forgets the account with id locally (no server call), with the
// consumers of the token service that get its tokens (their credentials
// stop working: a consumer is never left pointing at an account that a
// later login could bring back), and the copies of its secrets in backups
// of older store versions. It waits for a refresh of the account under way.
func (m *Manager) Remove(ctx context.Context, id string) (Removed, error) {
	cur, err := m.Get(ctx, id)
	if err != nil {
		return Removed{}, err
	}
	unlock, err := m.lockAccount(ctx, id, cur.Name)
	if err != nil {
		return Removed{}, err
	}
	defer unlock()
	if cur.Revision == 0 { // a login the store never had?
		release := m.holdPublish() // not while a watcher looks
		dropped := m.dropUnsavedOnly(id)
		if dropped {
			m.unpublished(id)
		}
		release()
		if dropped {
			return Removed{Account: cur}, nil
		}
	}
	defer m.holdPublish()()
	out := Removed{}
	err = m.update(ctx, func(t tx) error {
		a, ok, err := t.get(id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: it was removed meanwhile", ErrNotFound)
		}
		out = Removed{Account: a}
		if err := dropConsumersOf(t, id, &out.Consumers); err != nil {
			return err
		}
		t.remove(id)
		return nil
	})
	if err == nil {
		m.dropUnsaved(id)
		m.unpublished(id)
	}
	return out, err
}

// dropConsumersOf removes the consumers of the account with id in t, and
// appends them to dropped.
func dropConsumersOf(t tx, id string, dropped *[]Consumer) error {
	cs, err := t.consumers()
	if err != nil {
		return err
	}
	kept := cs[:0]
	for _, c := range cs {
		if c.AccountID == id {
			*dropped = append(*dropped, c)
		} else {
			kept = append(kept, c)
		}
	}
	if len(kept) != len(cs) {
		t.setConsumers(kept)
	}
	return nil
}

// RevokeOptions are the choices of a revocation.
type RevokeOptions struct {
	// Remove forgets the account once the server part did not fail.
	Remove bool
	// RemoveConsumers removes the consumers of the token service that get
	// the account's tokens (Remove always does).
	RemoveConsumers bool
}

// Revoked is what a revocation did.
type Revoked struct {
	Revocation
	// Account is the account as it is now (marked revoked), or as it was
	// when it was removed.
	Account Account
	// Removed is set when the account was removed.
	Removed bool
	// Consumers are the consumers of the account: removed when Removed or
	// RemoveConsumers, else kept (a later login of the account makes their
	// credentials work again).
	Consumers []Consumer
	// ConsumersRemoved says which of the two.
	ConsumersRemoved bool
}

// Revoke asks the server to revoke the account's tokens and then marks the
// record revoked, or removes it when asked. The tokens are dropped from the
// record only when the server confirmed the revocation, and a record is
// removed only when the revocation did not fail, so a failed revocation
// can be tried again. The error is non-nil when the server could not be
// asked or refused; the record is marked revoked anyway.
func (m *Manager) Revoke(ctx context.Context, id string, opts RevokeOptions) (Revoked, error) {
	a, err := m.Get(ctx, id)
	if err != nil {
		return Revoked{}, err
	}
	unlock, err := m.lockAccount(ctx, a.ID, a.Name)
	if err != nil {
		return Revoked{}, err
	}
	defer unlock()
	if a, err = m.Get(ctx, a.ID); err != nil {
		return Revoked{}, err
	}
	// The account's lock is held across the request: bound it as a
	// refresh is bounded.
	rctx, cancel := context.WithTimeout(ctx, m.refreshTimeout())
	rev, rerr := m.Auth.Revoke(rctx, a)
	cancel()
	if rerr != nil && rev.Outcome == "" {
		rev.Outcome = RevokeFailed
	}
	if rev.Outcome == RevokeFailed && rev.Detail == "" && rerr != nil {
		rev.Detail = rerr.Error()
	}
	// Removing after a failed revocation would leave live tokens at the
	// server that nothing here can revoke any more.
	out := Revoked{Revocation: rev, Account: a, Removed: opts.Remove && rev.Outcome != RevokeFailed}
	out.ConsumersRemoved = out.Removed || opts.RemoveConsumers
	release := m.holdPublish()
	werr := m.update(ctx, func(t tx) error {
		cur, ok, err := t.get(a.ID)
		if err != nil || !ok {
			return err
		}
		out.Consumers = nil
		if out.ConsumersRemoved {
			if err := dropConsumersOf(t, a.ID, &out.Consumers); err != nil {
				return err
			}
		} else if cs, err := t.consumers(); err == nil {
			for _, c := range cs {
				if c.AccountID == a.ID {
					out.Consumers = append(out.Consumers, c)
				}
			}
		}
		if out.Removed {
			t.remove(a.ID)
			return nil
		}
		cur.State, cur.StateDetail = StateRevoked, rev.Detail
		if rev.Outcome == RevokedAtServer {
			cur.AccessToken, cur.RefreshToken, cur.IDToken = "", "", ""
		}
		t.put(cur)
		out.Account = cur
		return nil
	})
	if werr != nil {
		release()
		return out, fmt.Errorf("the server part is done (%s) but the store could not be updated: %w", rev.Outcome, werr)
	}
	if out.Removed {
		m.unpublished(a.ID)
	} else {
		out.Account.Revision++
		m.published(out.Account)
	}
	release()
	if rerr == nil && rev.Outcome == RevokeFailed {
		rerr = errors.New(cmpOr(rev.Detail, "the server refused"))
	}
	if rerr != nil {
		if opts.Remove {
			return out, fmt.Errorf("revoking %q at the server: %w; the account was kept (marked revoked) so you can retry — keyfob remove forgets it anyway", a.Name, rerr)
		}
		return out, fmt.Errorf("revoking %q at the server: %w", a.Name, rerr)
	}
	return out, nil
}
