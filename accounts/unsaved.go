package accounts

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// What a process holds of an account that the store could not take: a
// rotation laid over the account's record (see keepUnsaved), or a login
// the store has no record of at all (Revision 0), which reads, refreshes,
// edits and SaveUnsaved write to the store first (see adopt).

// withUnsaved lays a rotation this process could not save over a.
func (m *Manager) withUnsaved(a Account) Account {
	m.unsavedMu.Lock()
	defer m.unsavedMu.Unlock()
	if u, ok := m.unsaved[a.ID]; ok && newerRotation(u, a) {
		return takeRecovered(a, u, false)
	}
	return a
}

// layUnsaved lays what this process holds in memory over accts, and
// appends the logins it holds alone (see unsavedOnly).
func (m *Manager) layUnsaved(accts []Account) []Account {
	m.unsavedMu.Lock()
	n := len(m.unsaved)
	m.unsavedMu.Unlock()
	if n == 0 {
		return accts
	}
	seen := make(map[string]bool, len(accts))
	for i := range accts {
		accts[i] = m.withUnsaved(accts[i])
		seen[accts[i].ID] = true
	}
	m.unsavedMu.Lock()
	var alone []Account
	for id, u := range m.unsaved {
		if !seen[id] && u.Revision == 0 {
			alone = append(alone, u)
		}
	}
	m.unsavedMu.Unlock()
	slices.SortFunc(alone, func(a, b Account) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return append(accts, alone...)
}

// unsavedOnly returns the account with id when this process alone holds
// it: a login that neither the store nor a recovery file could take (see
// Add). Its Revision is 0, as for every account the store has no record
// of; SaveUnsaved, a refresh or an edit of it save it first (see adopt).
func (m *Manager) unsavedOnly(id string) (Account, bool) {
	m.unsavedMu.Lock()
	defer m.unsavedMu.Unlock()
	u, ok := m.unsaved[id]
	if !ok || u.Revision != 0 {
		return Account{}, false
	}
	return u, true
}

// dropUnsavedOnly forgets the login with id that this process alone holds
// (the user removed it) and reports whether there was one.
func (m *Manager) dropUnsavedOnly(id string) bool {
	m.unsavedMu.Lock()
	defer m.unsavedMu.Unlock()
	if u, ok := m.unsaved[id]; ok && u.Revision == 0 {
		delete(m.unsaved, id)
		return true
	}
	return false
}

// dropUnsaved forgets whatever this process holds of the account with id,
// which was removed.
func (m *Manager) dropUnsaved(id string) {
	m.unsavedMu.Lock()
	defer m.unsavedMu.Unlock()
	delete(m.unsaved, id)
}

// adopt saves a, an account the store has no record of (Revision 0) that
// this process holds in memory, as a new record, under a free name, and
// returns it as stored. The caller holds the account's lock.
func (m *Manager) adopt(ctx context.Context, a Account) (Account, error) {
	if a.Revision != 0 {
		return a, nil
	}
	release := m.holdPublish()
	defer release()
	err := m.update(ctx, func(t tx) error {
		// A recovery file's account has no record either (Revision 0).
		if cur, ok, err := t.get(a.ID); err != nil || (ok && cur.Revision != 0) {
			if err == nil {
				err = fmt.Errorf("%w: an account with the id %s appeared", errChanged, a.ID)
			}
			return err
		}
		base := a.Name
		if ValidateName(base) != nil {
			base = defaultName(a)
		}
		name, err := uniqueNameFor(t, base, a.ID)
		if err != nil {
			return err
		}
		a.Name = name
		t.put(a)
		return nil
	})
	if err != nil {
		return a, fmt.Errorf("the login of %q is held only in this process until the store can take it: %w", a.Name, err)
	}
	// The store's own revision (on etcd, the key's): the next prepared
	// write compares it.
	if stored, err := m.b.get(ctx, a.ID); err == nil && stored.RefreshToken == a.RefreshToken {
		a.Revision = stored.Revision
	} else {
		a.Revision++
	}
	m.forgetUnsaved(a)
	m.published(a)
	return a, nil
}
