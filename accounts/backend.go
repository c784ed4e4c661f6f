package accounts

import "context"

// backend is where the accounts live. The Manager is its only user: no
// code outside this package sees it. fileStore is the one backend today;
// every operation here is what both a directory of files and a
// consensus store such as etcd can do.
type backend interface {
	// location names the store in messages (a directory or a URL).
	location() string
	// ready makes sure the store is in this keyfob's format (migrating an
	// older one) and says whether it exists.
	ready(ctx context.Context) (bool, error)
	// get reads the account with id (ErrNotFound when there is none).
	get(ctx context.Context, id string) (Account, error)
	// byName finds an account by its name, case-insensitively, without
	// reading every account.
	byName(ctx context.Context, name string) (Account, bool, error)
	// ids lists the account ids, at most limit of them when limit > 0.
	ids(ctx context.Context, limit int) ([]string, error)
	// load reads every account and consumer.
	load(ctx context.Context) (*Snapshot, error)
	// consumers reads the consumers of the token service.
	consumers(ctx context.Context) ([]Consumer, error)
	// lockAccount takes the lock that every write of the account's record
	// holds, and every refresh across its request.
	lockAccount(ctx context.Context, id, name string) (unlock func(), err error)
	// update runs fn in a transaction and writes what it changed; the
	// caller holds the lock of every existing account fn writes.
	update(ctx context.Context, fn func(tx) error) error
	// prepare gets ready, before a refresh request, to write a's record
	// after it: whatever saving needs (files, space) is taken now, so that
	// an answer never arrives with nowhere to keep it. The caller holds
	// the account's lock.
	prepare(ctx context.Context, a Account) (pendingWrite, error)
	// saveRecovery keeps a, whose record could not be written, where the
	// next read finds it; it returns where.
	saveRecovery(a Account) (string, error)
	// close lets go of what the backend holds.
	close() error
}

// tx is a change of the store: reads see the change so far.
type tx interface {
	get(id string) (Account, bool, error)
	byName(name string) (Account, bool, error)
	all() ([]Account, error)
	put(a Account)
	remove(id string)
	consumers() ([]Consumer, error)
	setConsumers([]Consumer)
	newID() string
}

// pendingWrite is a record write prepared before a refresh request.
type pendingWrite interface {
	// commit writes a (read at a.Revision) and returns it as stored.
	commit(a Account) (Account, error)
	// abort gives up what prepare took.
	abort()
}
