package accounts

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// Transferred is what CopyTo did.
type Transferred struct {
	From, To  string
	Accounts  int
	Consumers int
}

// CopyTo copies every account and consumer of m's store into dst's store
// (a file store into etcd, or back), which must hold none yet, then reads
// dst back and checks that it holds the same. m's store is only read:
// the accounts keep their ids, names and tokens, and the consumers their
// credentials. Whatever still uses m's store afterwards (a token service,
// a cron job) goes on rotating tokens there, which dst does not see: the
// caller says so.
func (m *Manager) CopyTo(ctx context.Context, dst *Manager) (Transferred, error) {
	out := Transferred{From: m.Location(), To: dst.Location()}
	src, err := m.Snapshot(ctx)
	if err != nil {
		return out, err
	}
	db, err := dst.ready(ctx)
	if err != nil {
		return out, err
	}
	ids, err := db.ids(ctx, 1)
	if err != nil {
		return out, err
	}
	cs, err := db.consumers(ctx)
	if err != nil {
		return out, err
	}
	if len(ids) > 0 || len(cs) > 0 {
		return out, fmt.Errorf("the store %s already holds accounts or consumers: keyfob copies only into an empty store, so that nothing there is replaced — choose another location (another prefix, another directory)", dst.Location())
	}
	accts := slices.Clone(src.Accounts)
	now := dst.now()
	for i := range accts {
		accts[i].Revision = 0
		if accts[i].CreatedAt.IsZero() { // an older store's: Put would date it
			accts[i].CreatedAt = now
		}
	}
	if _, err := dst.Put(ctx, accts...); err != nil {
		return out, fmt.Errorf("copying the accounts to %s: %w", dst.Location(), err)
	}
	if len(src.Consumers) > 0 {
		err := dst.update(ctx, func(t tx) error {
			if _, err := t.consumers(); err != nil {
				return err
			}
			t.setConsumers(slices.Clone(src.Consumers))
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("copying the consumers to %s: %w", dst.Location(), err)
		}
	}
	got, err := db.load(ctx)
	if err != nil {
		return out, fmt.Errorf("reading %s back: %w", dst.Location(), err)
	}
	if err := sameStores(&Snapshot{Accounts: accts, Consumers: src.Consumers}, got); err != nil {
		return out, fmt.Errorf("%s does not hold what was copied (%v); it may be used by something else — %s is unchanged", dst.Location(), err, m.Location())
	}
	out.Accounts, out.Consumers = len(src.Accounts), len(src.Consumers)
	return out, nil
}

// sameStores says how two snapshots differ, or nil when they hold the same
// accounts (revisions aside) and consumers, whatever their order.
func sameStores(a, b *Snapshot) error {
	if len(a.Accounts) != len(b.Accounts) {
		return fmt.Errorf("%d accounts instead of %d", len(b.Accounts), len(a.Accounts))
	}
	for _, x := range a.Accounts {
		y := b.Find(x.ID)
		if y == nil {
			return fmt.Errorf("the account %q is missing", x.Name)
		}
		if !sameJSON(x, *y) {
			return fmt.Errorf("the account %q differs", x.Name)
		}
	}
	byHash := func(c, d Consumer) int { return cmp.Compare(c.Hash, d.Hash) }
	ca, cb := slices.Clone(a.Consumers), slices.Clone(b.Consumers)
	slices.SortFunc(ca, byHash)
	slices.SortFunc(cb, byHash)
	if len(ca)+len(cb) > 0 && !sameJSON(ca, cb) {
		return fmt.Errorf("the consumers differ")
	}
	return nil
}
