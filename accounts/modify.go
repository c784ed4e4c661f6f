package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Saved is what a login or import did to the store.
type Saved struct {
	// Account is the account as stored.
	Account Account
	// Replaced is set when the login was of an account already stored (see
	// SameAccount), which was updated in place and kept its id and name.
	Replaced bool
	// NameNotUsed is the name the login asked for when the account kept
	// another (it already existed under that one): the faces say so, and
	// how to rename it.
	NameNotUsed string
}

// SameAccount is the one rule for whether a new login or import is of an
// account already stored, so that it updates that account instead of
// adding another: the same user (the same subject, or, when the new
// tokens name none, the same email) signing in through the same client
// (same kind, grant, client id and token endpoint; for client credentials,
// the same audience too: a partner account is per region).
func SameAccount(stored, a Account) bool {
	return sameUser(&stored, &a) && sameClient(&stored, &a)
}

// sameUser reports whether two logins are of the same user: the same
// subject, or, when the new login's tokens name none (the legacy kind's
// opaque tokens, a password grant without an id token), the same email.
func sameUser(p, a *Account) bool {
	switch {
	case a.Subject != "":
		return p.Subject == a.Subject
	case a.Email != "":
		return p.Email != "" && strings.EqualFold(p.Email, a.Email)
	}
	return false
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

// findSame returns the stored account a login of a would update.
func findSame(accts []Account, a Account) (Account, bool) {
	for _, p := range accts {
		if SameAccount(p, a) {
			return p, true
		}
	}
	return Account{}, false
}

// Add saves a freshly logged-in account. An account already stored for
// the same user and client (see SameAccount: the same login again, e.g.
// after "login required") is updated in place and keeps its id and name;
// Saved says so, and which name was asked for in vain. A new account gets
// an id, and a unique name derived from its email or kind when it has none
// (a name that is given, once trimmed, must pass ValidateName). When the
// store cannot take the login's tokens, they go to a recovery file.
func (m *Manager) Add(ctx context.Context, a Account) (Saved, error) {
	if a.Name != "" {
		a.Name = strings.TrimSpace(a.Name)
		if err := ValidateName(a.Name); err != nil {
			return Saved{Account: a}, err
		}
	}
	var out Saved
	var err error
	for range 3 {
		if out, err = m.add(ctx, a); !errors.Is(err, errChanged) {
			break
		}
	}
	if errors.Is(err, errChanged) {
		out, err = Saved{}, fmt.Errorf("the accounts kept changing while %q was being saved; try again", a.Name)
	}
	if err != nil && a.RefreshToken != "" && !errors.Is(err, ErrNameTaken) && !errors.Is(err, ErrInvalidName) {
		// The login's tokens exist nowhere else.
		keep := m.unsavedLogin(a, out.Account)
		if b, berr := m.ready(ctx); berr == nil {
			if cur, gerr := b.get(ctx, keep.ID); gerr == nil {
				// Its record was written after all (what failed came
				// later): what this process holds lies over it, and
				// goes when the record is removed.
				keep.Revision = cur.Revision
			}
		}
		return Saved{Account: keep}, m.keepUnsaved(keep, err)
	}
	return out, err
}

// errChanged says that the account a login would update changed between
// the look and the lock; Add looks again.
var errChanged = errors.New("changed meanwhile")

func (m *Manager) add(ctx context.Context, a Account) (Saved, error) {
	prev, found := Account{}, false
	if a.Subject != "" || a.Email != "" {
		accts, err := m.List(ctx)
		if err != nil {
			return Saved{Account: a}, err
		}
		prev, found = findSame(accts, a)
	}
	if found {
		unlock, err := m.lockAccount(ctx, prev.ID, prev.Name)
		if err != nil {
			return Saved{Account: a}, err
		}
		defer unlock()
		if prev.Revision == 0 {
			// The account has no record yet (held in memory, or in a
			// recovery file alone): the new login is saved as it.
			return m.addOverUnsaved(ctx, prev, a)
		}
	}
	defer m.holdPublish()() // after the account's lock: see holdPublish
	var out Saved
	err := m.update(ctx, func(t tx) error {
		out = Saved{}
		if found {
			cur, ok, err := t.get(prev.ID)
			if err != nil {
				return err
			}
			if !ok || !SameAccount(cur, a) {
				return errChanged
			}
			n := a
			n.ID, n.Name, n.CreatedAt, n.Revision = cur.ID, cur.Name, cur.CreatedAt, cur.Revision
			n.Rotation = max(n.Rotation, cur.Rotation+1)
			if a.Name != "" && !strings.EqualFold(a.Name, cur.Name) {
				out.NameNotUsed = a.Name
			}
			t.put(n)
			out.Account, out.Replaced = n, true
			return nil
		}
		n := a
		if n.Name == "" {
			name, err := uniqueName(t, defaultName(n))
			if err != nil {
				return err
			}
			n.Name = name
		} else if err := nameTaken(t, n.Name, ""); err != nil {
			return err
		}
		n.ID = t.newID()
		if n.CreatedAt.IsZero() {
			n.CreatedAt = m.now()
		}
		if n.RefreshToken != "" && n.Rotation == 0 {
			n.Rotation = 1
		}
		t.put(n)
		out.Account = n
		return nil
	})
	if err == nil {
		out.Account.Revision++
		m.published(out.Account)
	}
	return out, err
}

// addOverUnsaved saves the login a of the account prev, which has no
// record (Revision 0), as that account: its id, name and creation, a
// later rotation. The caller holds the account's lock.
func (m *Manager) addOverUnsaved(ctx context.Context, prev, a Account) (Saved, error) {
	n := a
	n.ID, n.Name, n.CreatedAt, n.Revision = prev.ID, prev.Name, prev.CreatedAt, 0
	n.Rotation = max(n.Rotation, prev.Rotation+1)
	out := Saved{Account: n, Replaced: true}
	if a.Name != "" && !strings.EqualFold(a.Name, prev.Name) {
		out.NameNotUsed = a.Name
	}
	saved, err := m.adopt(ctx, n)
	if err != nil {
		return out, err
	}
	out.Account = saved
	return out, nil
}

// unsavedLogin is the login a as a recovery file keeps it: saved, the
// account as Add made it (id and name given), when it got that far.
func (m *Manager) unsavedLogin(a, saved Account) Account {
	if saved.ID != "" {
		return saved
	}
	a.ID = randomID()
	if a.Name == "" {
		a.Name = defaultName(a)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = m.now()
	}
	a.Rotation = max(a.Rotation, 1)
	return a
}

// Import adds an account from an existing refresh token: it refreshes at
// once, which proves the token works and learns the expiry, scopes and
// email, then saves the account (and the rotated refresh token) as Add
// does.
func (m *Manager) Import(ctx context.Context, a Account) (Saved, error) {
	if a.RefreshToken == "" && !a.UsesClientCredentials() {
		return Saved{Account: a}, errors.New("no refresh token was given; pipe it on stdin or paste it at the prompt")
	}
	// A refresh token keyfob already holds is its account's: importing it
	// again is refreshing that account, with the client it belongs to
	// (under another client the server would refuse it or, worse, spend it
	// for a second account and leave the first one dead).
	if held, ok, err := m.holderOf(ctx, a.RefreshToken); err != nil || ok {
		if err != nil {
			return Saved{Account: a}, err
		}
		r, err := m.Refresh(ctx, held, Explicit)
		out := Saved{Account: r.Account, Replaced: true}
		if name := strings.TrimSpace(a.Name); name != "" && !strings.EqualFold(name, held.Name) {
			out.NameNotUsed = name
		}
		return out, err
	}
	// Refreshing spends the given refresh token: make sure the result can
	// be saved under its name before that.
	if err := m.CheckName(ctx, a); err != nil {
		return Saved{Account: a}, err
	}
	a.Name = strings.TrimSpace(a.Name)
	rctx, cancel := context.WithTimeout(ctx, m.refreshTimeout())
	g, err := m.Auth.Refresh(rctx, a)
	unknown := err != nil && outcomeUnknown(rctx, err)
	cancel()
	var ns interface{ NotSent() bool }
	switch {
	case unknown:
		return Saved{Account: a}, fmt.Errorf("importing: %w", &OutcomeUnknownError{Account: cmpOr(a.Name, a.Email), Import: true, Err: err})
	case err != nil && errors.As(err, &ns) && ns.NotSent():
		return Saved{Account: a}, fmt.Errorf("the refresh token could not be tried, so it was not used: %w", err)
	case err != nil:
		return Saved{Account: a}, fmt.Errorf("the server did not accept the refresh token: %w", err)
	}
	a.Apply(g, m.now())
	out, err := m.Add(ctx, a)
	if errors.Is(err, ErrNameTaken) {
		// Another process took the name meanwhile; the new refresh token
		// must not be lost over a name.
		asked := a.Name
		a.Name = ""
		out, err = m.Add(ctx, a)
		out.NameNotUsed = asked
	}
	return out, err
}

// holderOf finds the account that holds the refresh token rt.
func (m *Manager) holderOf(ctx context.Context, rt string) (Account, bool, error) {
	if rt == "" {
		return Account{}, false, nil
	}
	accts, err := m.List(ctx)
	if err != nil {
		return Account{}, false, err
	}
	for _, a := range accts {
		if a.RefreshToken == rt {
			return a, true, nil
		}
	}
	return Account{}, false, nil
}

// CheckName tells, before a login or import spends anything at the
// server, whether a's name can be saved: it fails when the name is not
// valid (see ValidateName), when the store cannot be read, or when another
// account has the name and is not the same client (a login of the same
// user and client updates that account, keeping its name).
func (m *Manager) CheckName(ctx context.Context, a Account) error {
	name := strings.TrimSpace(a.Name)
	if a.Name != "" {
		if err := ValidateName(name); err != nil {
			return err
		}
	}
	b, err := m.ready(ctx)
	if err != nil {
		return err
	}
	if name == "" {
		return nil
	}
	p, ok, err := b.byName(ctx, name)
	if err != nil || !ok || sameClient(&p, &a) {
		return err
	}
	return fmt.Errorf("%w: an account named %q already exists (%s); choose another name or remove it first",
		ErrNameTaken, p.Name, p.Kind)
}

// nameTaken fails with ErrNameTaken when an account other than the one
// with id ("" for an account not yet saved) is named name.
func nameTaken(t tx, name, id string) error {
	other, ok, err := t.byName(name)
	if err != nil {
		return err
	}
	if ok && other.ID != id {
		return fmt.Errorf("%w: an account named %q already exists; choose another name or remove it first", ErrNameTaken, name)
	}
	return nil
}

// Put stores accounts as they are given, each under its own id (a new one
// when it has none), replacing what the store holds under that id: the
// demo's sample accounts, an operator's bulk load, tests' fixtures. Names
// must be valid and unique. Many accounts are written a few hundred at a
// time, each batch under the locks of the accounts it replaces.
func (m *Manager) Put(ctx context.Context, accts ...Account) ([]Account, error) {
	out := make([]Account, 0, len(accts))
	for len(accts) > 0 {
		n := min(len(accts), putBatch)
		got, err := m.putBatch(ctx, accts[:n])
		out = append(out, got...)
		if err != nil {
			return out, err
		}
		accts = accts[n:]
	}
	return out, nil
}

// putBatch is how many accounts Put writes under one set of locks.
const putBatch = 512

func (m *Manager) putBatch(ctx context.Context, accts []Account) ([]Account, error) {
	b, err := m.ready(ctx)
	if err != nil {
		return nil, err
	}
	var unlocks []func()
	defer func() {
		for _, u := range unlocks {
			u()
		}
	}()
	for _, a := range accts {
		if a.ID == "" {
			continue
		}
		if !ValidID(a.ID) {
			return nil, fmt.Errorf("the account id %s is not one keyfob makes", quoteShort(a.ID, 20))
		}
		if _, err := b.get(ctx, a.ID); errors.Is(err, ErrNotFound) {
			continue // a new account: nobody else knows its id
		}
		unlock, err := m.lockAccount(ctx, a.ID, a.Name)
		if err != nil {
			return nil, err
		}
		unlocks = append(unlocks, unlock)
	}
	defer m.holdPublish()() // after the accounts' locks: see holdPublish
	out := make([]Account, len(accts))
	err = m.update(ctx, func(t tx) error {
		for i, a := range accts {
			if err := ValidateName(a.Name); err != nil {
				return err
			}
			if a.ID == "" {
				a.ID = t.newID()
			}
			if err := nameTaken(t, a.Name, a.ID); err != nil {
				return err
			}
			if a.CreatedAt.IsZero() {
				a.CreatedAt = m.now()
			}
			cur, ok, err := t.get(a.ID)
			if err != nil {
				return err
			}
			a.Revision = 0
			if ok {
				a.Revision = cur.Revision
			}
			t.put(a)
			out[i] = a
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Revision++
		m.published(out[i])
	}
	return out, nil
}
