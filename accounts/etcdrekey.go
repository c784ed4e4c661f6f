package accounts

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Rekeyed is what Rekey did.
type Rekeyed struct {
	// Accounts is how many accounts were sealed again (those a rekey that
	// was interrupted had done already are not counted).
	Accounts int
	// KeyID names the new key (as errors about keys name them).
	KeyID string
}

// keyNone is what the meta's rekey_from holds while a plain-text store is
// being encrypted.
const keyNone = "none"

// Rekey seals every secret of an etcd store again, under the key in
// newKeyFile, and makes it the store's key: first the meta names the new
// key (from then on a process with the old key reads nothing and, as
// every write compares the meta, writes nothing: restart them with the new
// key), then each account is sealed again under its lock with a
// compare-and-swap, then the meta says the rekey is over. An interrupted
// rekey is finished by running it again with the same keys. A plain-text
// store (opened with Plaintext) is encrypted the same way.
func (m *Manager) Rekey(ctx context.Context, newKeyFile string) (Rekeyed, error) {
	s, ok := m.b.(*etcdStore)
	if !ok {
		return Rekeyed{}, errors.New("only an etcd store is sealed with a store key; a file store keeps its tokens in files only you can read")
	}
	nk, err := loadStoreKey(newKeyFile)
	if err != nil {
		return Rekeyed{}, err
	}
	old, from := s.key, keyNone
	if old != nil {
		from = old.check
		if old.check == nk.check {
			return Rekeyed{}, fmt.Errorf("the key in %s is the store's key already; give the new key with --new-key-file", newKeyFile)
		}
	}
	if err := s.startRekey(ctx, nk, from); err != nil {
		return Rekeyed{}, err
	}
	ids, err := s.ids(ctx, 0)
	if err != nil {
		return Rekeyed{}, err
	}
	out := Rekeyed{KeyID: nk.id()}
	for _, id := range ids {
		done, err := s.rekeyOne(ctx, id, old, nk)
		if err != nil {
			return out, fmt.Errorf("%w; %d accounts are sealed under the new key — run keyfob store rekey again with the same keys to finish", err, out.Accounts)
		}
		if done {
			out.Accounts++
		}
	}
	return out, s.endRekey(ctx, nk)
}

// startRekey marks the meta: the new key is the store's, the old one is
// on its way out. A rekey from the same key to the same new key that was
// interrupted is resumed.
func (s *etcdStore) startRekey(ctx context.Context, nk *storeKey, from string) error {
	meta, rev, err := s.inspectMeta(ctx)
	switch {
	case err != nil:
		return err
	case rev == 0:
		return fmt.Errorf("the store %s holds nothing yet: give it the new key from the start", s.loc)
	case meta.KeyCheck == nk.check && meta.RekeyFrom == from:
		return nil // resumed
	}
	if err := s.checkKey(meta); err != nil {
		return err
	}
	meta.Encryption, meta.KeyCheck, meta.RekeyFrom = encAES, nk.check, from
	return s.casMeta(ctx, meta, rev)
}

// endRekey clears the meta's rekey mark; this process uses the new key
// from then on.
func (s *etcdStore) endRekey(ctx context.Context, nk *storeKey) error {
	meta, rev, err := s.inspectMeta(ctx)
	if err != nil {
		return err
	}
	if meta.KeyCheck != nk.check {
		return fmt.Errorf("the meta of %s changed while the store was re-keyed; run keyfob store rekey again", s.loc)
	}
	meta.RekeyFrom = ""
	if err := s.casMeta(ctx, meta, rev); err != nil {
		return err
	}
	s.mu.Lock()
	s.key, s.metaRev = nk, -1
	s.mu.Unlock()
	return nil
}

func (s *etcdStore) casMeta(ctx context.Context, meta etcdMeta, rev int64) error {
	var resp *clientv3.TxnResponse
	err := s.call(ctx, func(c context.Context, cli *clientv3.Client) (err error) {
		resp, err = cli.Txn(c).If(clientv3.Compare(clientv3.ModRevision(s.metaKey()), "=", rev)).
			Then(clientv3.OpPut(s.metaKey(), meta.encode())).Commit()
		return err
	})
	if err == nil && !resp.Succeeded {
		err = fmt.Errorf("the meta of %s changed meanwhile (another rekey?); run keyfob store rekey again", s.loc)
	}
	return err
}

// rekeyOne seals the account with id again under nk, under its lock. It
// reports false when there was nothing to do (removed meanwhile, or sealed
// under nk by an interrupted rekey).
func (s *etcdStore) rekeyOne(ctx context.Context, id string, old, nk *storeKey) (bool, error) {
	unlock, err := s.lockAccount(ctx, id, id)
	if err != nil {
		return false, err
	}
	defer unlock()
	key := s.accountKey(id)
	kv, err := s.getKV(ctx, key)
	if err != nil || kv == nil {
		return false, err
	}
	a, err := s.decodeAccountWith(kv, old)
	if err != nil {
		if _, again := s.decodeAccountWith(kv, nk); again == nil {
			return false, nil
		}
		return false, err
	}
	val, err := s.encodeAccountWith(a, nk)
	if err != nil {
		return false, err
	}
	u := s.fenced(txnUnit{cmps: []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision)}}, id)
	var resp *clientv3.TxnResponse
	err = s.call(ctx, func(c context.Context, cli *clientv3.Client) (err error) {
		resp, err = cli.Txn(c).If(u.cmps...).Then(clientv3.OpPut(key, val)).Commit()
		return err
	})
	if err == nil && !resp.Succeeded {
		err = fmt.Errorf("the account %q changed while it was sealed again", a.Name)
	}
	return err == nil, err
}
