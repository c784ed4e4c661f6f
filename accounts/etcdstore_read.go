package accounts

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// inspect reads the store's meta and looks, in the same request, for keys
// under the prefix that are not keyfob's, and checks that this process's
// key fits. rev is the meta's mod revision, 0 when there is no store yet
// (an empty prefix).
func (s *etcdStore) inspect(ctx context.Context) (meta etcdMeta, rev int64, err error) {
	meta, rev, err = s.inspectMeta(ctx)
	if err != nil || rev == 0 {
		return meta, rev, err
	}
	return meta, rev, s.checkKey(meta)
}

// inspectMeta is inspect without the check of the key.
func (s *etcdStore) inspectMeta(ctx context.Context) (meta etcdMeta, rev int64, err error) {
	layout := s.base + etcdLayout + "/"
	var resp *clientv3.TxnResponse
	err = s.call(ctx, func(c context.Context, cli *clientv3.Client) (err error) {
		keysOnly := []clientv3.OpOption{clientv3.WithLimit(1), clientv3.WithKeysOnly()}
		resp, err = cli.Txn(c).Then(
			clientv3.OpGet(s.metaKey()),
			clientv3.OpGet(s.base, append(keysOnly, clientv3.WithRange(layout))...),
			clientv3.OpGet(clientv3.GetPrefixRangeEnd(layout), append(keysOnly, clientv3.WithRange(clientv3.GetPrefixRangeEnd(s.base)))...),
			clientv3.OpGet(layout, append(keysOnly, clientv3.WithPrefix())...),
		).Commit()
		return err
	})
	if err != nil {
		return etcdMeta{}, 0, err
	}
	for _, r := range resp.Responses[1:3] {
		if kvs := r.GetResponseRange().Kvs; len(kvs) > 0 {
			return etcdMeta{}, 0, s.foreignKey(string(kvs[0].Key))
		}
	}
	metaKVs := resp.Responses[0].GetResponseRange().Kvs
	if len(metaKVs) == 0 {
		if kvs := resp.Responses[3].GetResponseRange().Kvs; len(kvs) > 0 {
			return etcdMeta{}, 0, &ForeignStoreError{Location: s.loc, Key: string(kvs[0].Key),
				Problem: "it holds keys in keyfob's layout but no " + s.metaKey() + ", which keyfob writes first"}
		}
		return etcdMeta{}, 0, nil
	}
	meta, err = s.decodeMeta(metaKVs[0].Value)
	if err != nil {
		return etcdMeta{}, 0, err
	}
	return meta, metaKVs[0].ModRevision, nil
}

var layoutKey = regexp.MustCompile(`^v([0-9]+)/`)

// foreignKey explains a key under the prefix outside keyfob's layout.
func (s *etcdStore) foreignKey(key string) error {
	if m := layoutKey.FindStringSubmatch(strings.TrimPrefix(key, s.base)); m != nil {
		return &ForeignStoreError{Location: s.loc, Key: key,
			Problem: fmt.Sprintf("it holds keys of a newer keyfob (layout v%s, this keyfob knows %s): upgrade keyfob to use it", m[1], etcdLayout)}
	}
	return &ForeignStoreError{Location: s.loc, Key: key, Problem: "the prefix holds keys that keyfob did not write"}
}

func (s *etcdStore) decodeMeta(value []byte) (etcdMeta, error) {
	var m etcdMeta
	if err := json.Unmarshal(value, &m); err != nil || m.Keyfob != "store" {
		return m, &ForeignStoreError{Location: s.loc, Key: s.metaKey(), Problem: "its meta key does not hold keyfob's store description"}
	}
	switch {
	case m.Version > CurrentVersion:
		return m, &VersionError{Path: s.keyURL(s.metaKey()), Version: m.Version}
	case m.Version != CurrentVersion:
		return m, corrupt(s.keyURL(s.metaKey()), value, fmt.Errorf("store version %d is not one keyfob wrote to etcd", m.Version))
	case m.Encryption != encAES && m.Encryption != encNone:
		return m, corrupt(s.keyURL(s.metaKey()), value, fmt.Errorf("the encryption %q is not one keyfob knows", m.Encryption))
	}
	return m, nil
}

// checkKey tells whether this process's key (or its lack) fits meta.
func (s *etcdStore) checkKey(m etcdMeta) error {
	fail := func(problem string) error { return &StoreKeyError{Location: s.loc, Problem: problem} }
	switch {
	case m.Encryption == encAES && s.key == nil:
		return fail("its tokens are encrypted; give its store key with --store-key-file FILE or KEYFOB_STORE_KEY_FILE")
	case m.Encryption == encAES && s.key.check == m.KeyCheck:
		return nil
	case m.Encryption == encAES && s.key.check == m.RekeyFrom:
		return fail(fmt.Sprintf("it is being re-keyed from the key in %s (key %s) to key %s; "+
			"finish with keyfob store rekey --new-key-file NEW (still with this key), or use the new key", s.key.path, s.key.id(), m.KeyCheck[:min(12, len(m.KeyCheck))]))
	case m.Encryption == encAES:
		return fail(fmt.Sprintf("the key in %s (key %s) is not this store's key (key %s); use the key the store was created with — nothing was changed",
			s.key.path, s.key.id(), m.KeyCheck[:min(12, len(m.KeyCheck))]))
	case s.key != nil:
		return fail("it keeps its tokens in plain text and has no store key; to encrypt them, run " +
			"keyfob --store-plaintext store rekey --new-key-file FILE (with --store naming it), then use FILE")
	}
	return nil
}

// ready checks the store (see inspect) and remembers its meta's revision,
// which every write then compares.
func (s *etcdStore) ready(ctx context.Context) (bool, error) {
	_, rev, err := s.inspect(ctx)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	s.metaRev = rev
	s.mu.Unlock()
	if s.key == nil {
		s.noticef("warning: the store %s keeps access and refresh tokens in plain text (--store-plaintext): whoever reads etcd or its backups can use them", s.loc)
	}
	if rev != 0 {
		s.mergeRecovery(ctx)
	}
	return rev != 0, nil
}

func (s *etcdStore) noticef(format string, args ...any) {
	if s.notice != nil {
		s.notice(fmt.Sprintf(format, args...))
	}
}

// etcdRecord is what an account's key holds (its revision is the key's).
type etcdRecord struct {
	Version int     `json:"version"`
	Account Account `json:"account"`
}

// encodeAccount is a's value, its secrets sealed.
func (s *etcdStore) encodeAccount(a Account) (string, error) { return s.encodeAccountWith(a, s.key) }

// encodeAccountWith is a's value, its secrets sealed with sk (none: nil).
func (s *etcdStore) encodeAccountWith(a Account, sk *storeKey) (string, error) {
	key := s.accountKey(a.ID)
	if sk != nil {
		a = sk.sealAccount(a, key)
	}
	b, err := json.Marshal(etcdRecord{Version: CurrentVersion, Account: a})
	if err != nil {
		return "", fmt.Errorf("cannot encode the account %q: %w", a.Name, err)
	}
	return string(b), nil
}

// decodeAccount reads an account's key: a value keyfob did not write, or
// a newer keyfob did, is an error naming the key; the value is left alone.
func (s *etcdStore) decodeAccount(kv *mvccpb.KeyValue) (Account, error) {
	return s.decodeAccountWith(kv, s.key)
}

// decodeAccountWith is decodeAccount with the store key sk (none: nil).
func (s *etcdStore) decodeAccountWith(kv *mvccpb.KeyValue, sk *storeKey) (Account, error) {
	key := string(kv.Key)
	id := strings.TrimPrefix(key, s.accountsPrefix())
	if !ValidID(id) {
		return Account{}, &ForeignStoreError{Location: s.loc, Key: key, Problem: "an account key names an id keyfob did not make"}
	}
	a, _, err := decodeRecord(s.keyURL(key), id, kv.Value)
	if err != nil {
		return Account{}, err
	}
	if sk != nil {
		if a, err = sk.openAccount(a, key); err != nil {
			if errors.Is(err, errOtherKey) {
				return Account{}, &StoreKeyError{Location: s.loc, Problem: fmt.Sprintf("%s: %v; the store is being re-keyed, or its key was changed by hand — run keyfob store rekey to finish", key, err)}
			}
			return Account{}, &CorruptError{Path: s.keyURL(key), Offset: -1, Err: err}
		}
	} else if v := a.RefreshToken + a.AccessToken; strings.HasPrefix(v, sealedPrefix) {
		return Account{}, &StoreKeyError{Location: s.loc, Problem: key + " holds encrypted tokens; give the store key with --store-key-file"}
	}
	a.Revision = kv.ModRevision
	return a, nil
}

// getKV reads one key (nil when there is none).
func (s *etcdStore) getKV(ctx context.Context, key string) (*mvccpb.KeyValue, error) {
	var resp *clientv3.GetResponse
	err := s.call(ctx, func(c context.Context, cli *clientv3.Client) (err error) {
		resp, err = cli.Get(c, key)
		return err
	})
	if err != nil || len(resp.Kvs) == 0 {
		return nil, err
	}
	return resp.Kvs[0], nil
}

// record reads the account with id as etcd holds it (fs-like: missing is
// ok=false).
func (s *etcdStore) record(ctx context.Context, id string) (Account, bool, error) {
	kv, err := s.getKV(ctx, s.accountKey(id))
	if err != nil || kv == nil {
		return Account{}, false, err
	}
	a, err := s.decodeAccount(kv)
	return a, err == nil, err
}

// get reads the account with id, with a later rotation that only this
// machine's recovery file holds laid over it.
func (s *etcdStore) get(ctx context.Context, id string) (Account, error) {
	if !ValidID(id) {
		return Account{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	a, ok, err := s.record(ctx, id)
	if err != nil {
		return Account{}, err
	}
	if a, ok = s.local.overRecovery(id, a, ok); !ok {
		return Account{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return a, nil
}

func (s *etcdStore) byName(ctx context.Context, name string) (Account, bool, error) {
	kv, err := s.getKV(ctx, s.nameKey(name))
	if err != nil || kv == nil {
		return Account{}, false, err
	}
	a, err := s.get(ctx, string(kv.Value))
	if errors.Is(err, ErrNotFound) {
		return Account{}, false, nil
	}
	if err != nil || !strings.EqualFold(a.Name, name) {
		return Account{}, false, err
	}
	return a, true, nil
}

func (s *etcdStore) ids(ctx context.Context, limit int) ([]string, error) {
	var resp *clientv3.GetResponse
	err := s.call(ctx, func(c context.Context, cli *clientv3.Client) (err error) {
		resp, err = cli.Get(c, s.accountsPrefix(), clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(int64(max(limit, 0))))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		if id := strings.TrimPrefix(string(kv.Key), s.accountsPrefix()); ValidID(id) {
			out = append(out, id)
		}
	}
	return out, nil
}

func (s *etcdStore) load(ctx context.Context) (*Snapshot, error) {
	snap, _, err := s.loadRev(ctx)
	return snap, err
}

// etcdPage is how many keys one read of a load takes.
const etcdPage = 500

// loadRev reads every account and consumer at one revision, which it
// returns, a page at a time.
func (s *etcdStore) loadRev(ctx context.Context) (*Snapshot, int64, error) {
	var rev int64
	var accts []Account
	var cons []Consumer
	for _, prefix := range []string{s.accountsPrefix(), s.consumersPrefix()} {
		from, end := prefix, clientv3.GetPrefixRangeEnd(prefix)
		for {
			var resp *clientv3.GetResponse
			err := s.call(ctx, func(c context.Context, cli *clientv3.Client) (err error) {
				opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(etcdPage)}
				if rev != 0 {
					opts = append(opts, clientv3.WithRev(rev))
				}
				resp, err = cli.Get(c, from, opts...)
				return err
			})
			if err != nil {
				return nil, 0, err
			}
			rev = resp.Header.Revision
			for _, kv := range resp.Kvs {
				if prefix == s.consumersPrefix() {
					c, err := s.decodeConsumer(kv)
					if err != nil {
						return nil, 0, err
					}
					cons = append(cons, c)
					continue
				}
				a, err := s.decodeAccount(kv)
				if err != nil {
					return nil, 0, err
				}
				accts = append(accts, a)
			}
			if !resp.More || len(resp.Kvs) == 0 {
				break
			}
			from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
		}
	}
	accts = s.local.layRecovery(accts)
	sortAccounts(accts)
	sortConsumers(cons)
	if err := checkConsumers(cons); err != nil {
		return nil, 0, &CorruptError{Path: s.keyURL(s.consumersPrefix()), Offset: -1, Err: err}
	}
	return &Snapshot{Accounts: accts, Consumers: cons}, rev, nil
}

// etcdConsumer is what a consumer's key holds.
type etcdConsumer struct {
	Version  int      `json:"version"`
	Consumer Consumer `json:"consumer"`
}

func encodeConsumer(c Consumer) string {
	b, _ := json.Marshal(etcdConsumer{Version: CurrentVersion, Consumer: c})
	return string(b)
}

func (s *etcdStore) decodeConsumer(kv *mvccpb.KeyValue) (Consumer, error) {
	key := string(kv.Key)
	path := s.keyURL(key)
	var v struct {
		Version  *int      `json:"version"`
		Consumer *Consumer `json:"consumer"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(kv.Value), &v); err != nil {
		return Consumer{}, corrupt(path, kv.Value, err)
	}
	switch {
	case v.Version == nil || v.Consumer == nil:
		return Consumer{}, corrupt(path, kv.Value, errors.New(`the "version" or "consumer" field is missing`))
	case *v.Version > CurrentVersion:
		return Consumer{}, &VersionError{Path: path, Version: *v.Version}
	case *v.Version != CurrentVersion:
		return Consumer{}, corrupt(path, kv.Value, fmt.Errorf("version %d is not one keyfob wrote", *v.Version))
	case v.Consumer.Hash != strings.TrimPrefix(key, s.consumersPrefix()):
		return Consumer{}, corrupt(path, kv.Value, errors.New("the consumer's credential hash is not the one its key is named after"))
	}
	return *v.Consumer, nil
}

func sortConsumers(cs []Consumer) {
	slices.SortFunc(cs, func(a, b Consumer) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
}

func (s *etcdStore) consumers(ctx context.Context) ([]Consumer, error) {
	var resp *clientv3.GetResponse
	err := s.call(ctx, func(c context.Context, cli *clientv3.Client) (err error) {
		resp, err = cli.Get(c, s.consumersPrefix(), clientv3.WithPrefix())
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Consumer, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		c, err := s.decodeConsumer(kv)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sortConsumers(out)
	if err := checkConsumers(out); err != nil {
		return nil, &CorruptError{Path: s.keyURL(s.consumersPrefix()), Offset: -1, Err: err}
	}
	return out, nil
}
