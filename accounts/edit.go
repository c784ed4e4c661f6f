package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Add saves a freshly logged-in account. An account of the same kind,
// client and subject (the same login again, e.g. after "login required")
// is updated in place, keeping its id and name; replaced says so. A new
// account gets an id, and a unique name derived from its email or kind
// when it has none ("" means none; a name that is given, once trimmed,
// must pass ValidateName).
func (m *Manager) Add(ctx context.Context, a Account) (saved Account, replaced bool, err error) {
	if a.Name != "" {
		a.Name = strings.TrimSpace(a.Name)
		if err := ValidateName(a.Name); err != nil {
			return a, false, err
		}
	}
	err = m.Store.Update(ctx, func(f *File) error {
		saved, replaced = Account{}, false
		if prev := sameLogin(f, a); prev != nil {
			// The account stays what the user knows it as: a name given
			// with the new login does not rename it (e lets them do that).
			id, name, created := prev.ID, prev.Name, prev.CreatedAt
			*prev = a
			prev.ID, prev.Name, prev.CreatedAt = id, name, created
			saved, replaced = *prev, true
			return nil
		}
		n := a
		if n.Name == "" {
			n.Name = uniqueName(f, defaultName(n))
		} else if err := nameTaken(f, n.Name, ""); err != nil {
			return err
		}
		n.ID = newID(f)
		if n.CreatedAt.IsZero() {
			n.CreatedAt = m.now()
		}
		f.Accounts = append(f.Accounts, n)
		saved = n
		return nil
	})
	if err != nil && a.RefreshToken != "" && !errors.Is(err, ErrNameTaken) {
		// The login's tokens exist nowhere else.
		keep := m.unsavedLogin(a, saved)
		return keep, false, m.keepUnsaved(keep, err)
	}
	return saved, replaced, err
}

// unsavedLogin is the login a as a recovery file keeps it: saved, the
// account as Add made it (id and name given), when it got that far.
func (m *Manager) unsavedLogin(a, saved Account) Account {
	if saved.ID != "" {
		return saved
	}
	a.ID = newID(&File{})
	if a.Name == "" {
		a.Name = defaultName(a)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = m.now()
	}
	return a
}

// Import adds an account from an existing refresh token: it refreshes at
// once, which proves the token works and learns the expiry, scopes and
// email, then saves the account (and the rotated refresh token).
func (m *Manager) Import(ctx context.Context, a Account) (saved Account, replaced bool, err error) {
	if a.RefreshToken == "" && !a.UsesClientCredentials() {
		return a, false, errors.New("no refresh token was given; pipe it on stdin or paste it at the prompt")
	}
	// Refreshing spends the given refresh token: make sure the result can
	// be saved under its name before that.
	if err := m.CheckName(a); err != nil {
		return a, false, err
	}
	a.Name = strings.TrimSpace(a.Name)
	rctx, cancel := context.WithTimeout(ctx, m.refreshTimeout())
	g, err := m.Auth.Refresh(rctx, a)
	unknown := err != nil && outcomeUnknown(rctx, err)
	cancel()
	switch {
	case unknown:
		return a, false, fmt.Errorf("importing: %w", &OutcomeUnknownError{Account: orDefault(a.Name, a.Email), Import: true, Err: err})
	case err != nil:
		return a, false, fmt.Errorf("the server did not accept the refresh token: %w", err)
	}
	a.Apply(g, m.now())
	saved, replaced, err = m.Add(ctx, a)
	if errors.Is(err, ErrNameTaken) {
		// Another process took the name meanwhile; the new refresh token
		// must not be lost over a name.
		a.Name = ""
		saved, replaced, err = m.Add(ctx, a)
	}
	return saved, replaced, err
}

// CheckName tells, before a login or import spends anything at the
// server, whether a's name can be saved: it fails when the name is not
// valid (see ValidateName), when the store cannot be read, or when another
// account has the name and is not the same login (same kind, grant, client
// and token endpoint), which a new login would update in place.
func (m *Manager) CheckName(a Account) error {
	name := strings.TrimSpace(a.Name)
	if a.Name != "" {
		if err := ValidateName(name); err != nil {
			return err
		}
	}
	f, err := m.Store.Load()
	if err != nil {
		return err
	}
	if name == "" {
		return nil
	}
	p := byName(f, name)
	if p == nil || sameClient(p, &a) {
		return nil
	}
	return fmt.Errorf("%w: an account named %q already exists (%s); choose another name or remove it first",
		ErrNameTaken, p.Name, p.Kind)
}

func sameLogin(f *File, a Account) *Account {
	if a.Subject == "" && a.Email == "" {
		return nil
	}
	for i := range f.Accounts {
		p := &f.Accounts[i]
		if sameUser(p, &a) && sameClient(p, &a) {
			return p
		}
	}
	return nil
}

// sameUser reports whether two logins are of the same user: the same
// subject, or, when the new login's tokens name none (the legacy kind's
// opaque tokens, a password grant without an id token), the same email.
func sameUser(p, a *Account) bool {
	if a.Subject != "" {
		return p.Subject == a.Subject
	}
	return p.Email != "" && strings.EqualFold(p.Email, a.Email)
}

// sameClient reports whether two accounts sign in the same way: same kind,
// grant, client and token endpoint, and, for client credentials, the same
// audience (a partner account is per region: Tesla registers an app's
// domain once per region; a business token is per business, whose
// consent is its auth code).
func sameClient(p, a *Account) bool {
	return p.Kind == a.Kind && p.Grant == a.Grant && p.ClientID == a.ClientID &&
		p.Endpoints.TokenURL == a.Endpoints.TokenURL && p.Endpoints.BaseURL == a.Endpoints.BaseURL &&
		(!p.UsesClientCredentials() || p.Audience == a.Audience && p.AuthCode == a.AuthCode)
}

// nameTaken fails with ErrNameTaken when an account other than the one
// with id ("" for an account not yet saved) is named name.
func nameTaken(f *File, name, id string) error {
	if other := byName(f, name); other != nil && other.ID != id {
		return fmt.Errorf("%w: an account named %q already exists; choose another name or remove it first", ErrNameTaken, name)
	}
	return nil
}

func byName(f *File, name string) *Account {
	for i := range f.Accounts {
		if strings.EqualFold(f.Accounts[i].Name, name) {
			return &f.Accounts[i]
		}
	}
	return nil
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

// Remove forgets the account with id locally (no server call).
func (m *Manager) Remove(ctx context.Context, id string) error {
	return m.Store.Update(ctx, func(f *File) error {
		if !f.Remove(id) {
			return fmt.Errorf("%w: it was removed meanwhile", ErrNotFound)
		}
		return nil
	})
}

// Revoke asks the server to revoke the account's tokens and then marks the
// record revoked, or removes it when remove is set. The tokens are dropped
// from the record only when the server confirmed the revocation, and a
// record is removed only when the revocation did not fail, so a failed
// revocation can be tried again. The error is non-nil when the server could
// not be asked or refused; the record is marked revoked anyway.
func (m *Manager) Revoke(ctx context.Context, id string, remove bool) (Revocation, error) {
	a, err := m.Find(id)
	if err != nil {
		return Revocation{}, err
	}
	unlock, err := m.Store.LockAccount(ctx, a.ID, a.Name)
	if err != nil {
		return Revocation{}, err
	}
	defer unlock()
	if a, err = m.Find(a.ID); err != nil {
		return Revocation{}, err
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
	removed := remove && rev.Outcome != RevokeFailed
	werr := m.Store.Update(ctx, func(f *File) error {
		if removed {
			f.Remove(a.ID)
			return nil
		}
		p := f.Find(a.ID)
		if p == nil {
			return nil
		}
		p.State, p.StateDetail = StateRevoked, rev.Detail
		if rev.Outcome == RevokedAtServer {
			p.AccessToken, p.RefreshToken, p.IDToken = "", "", ""
		}
		return nil
	})
	if werr != nil {
		return rev, fmt.Errorf("the server part is done (%s) but the store could not be updated: %w", rev.Outcome, werr)
	}
	if rerr == nil && rev.Outcome == RevokeFailed {
		rerr = errors.New(orDefault(rev.Detail, "the server refused"))
	}
	if rerr != nil {
		if remove {
			return rev, fmt.Errorf("revoking %q at the server: %w; the account was kept (marked revoked) so you can retry — keyfob remove forgets it anyway", a.Name, rerr)
		}
		return rev, fmt.Errorf("revoking %q at the server: %w", a.Name, rerr)
	}
	return rev, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
