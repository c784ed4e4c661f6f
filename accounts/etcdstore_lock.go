package accounts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// etcdCommitWait is how long the write of a refresh's result keeps
// trying while the cluster elects a leader: the rotated refresh token
// exists nowhere else.
const etcdCommitWait = 20 * time.Second

// lockSession returns the lease session that this process's account
// locks live in, made on first use and again after its lease ran out.
func (s *etcdStore) lockSession(ctx context.Context) (*concurrency.Session, error) {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	if s.session != nil {
		select {
		case <-s.session.Done():
			s.session = nil
		default:
			return s.session, nil
		}
	}
	sess, err := s.newSession(ctx)
	if err != nil {
		return nil, err
	}
	s.session = sess
	return sess, nil
}

// newSession grants a lease of etcdLockTTL seconds (bounded by the
// store's timeout, which concurrency.NewSession's own grant is not) and
// keeps it alive until the session is closed or this process dies.
func (s *etcdStore) newSession(ctx context.Context) (*concurrency.Session, error) {
	cli, err := s.client()
	if err != nil {
		return nil, err
	}
	var lease *clientv3.LeaseGrantResponse
	err = s.call(ctx, func(c context.Context, cli *clientv3.Client) (err error) {
		lease, err = cli.Grant(c, etcdLockTTL)
		return err
	})
	if err != nil {
		return nil, err
	}
	sess, err := concurrency.NewSession(cli, concurrency.WithLease(lease.ID))
	if err != nil {
		return nil, s.unavailable(err)
	}
	return sess, nil
}

// lockAccount takes the account's lock: a mutex in etcd under this
// process's lease, so that a holder that dies lets go of it when its lease
// runs out. The wait is bounded by the lock timeout; the error names the
// account and who holds it.
func (s *etcdStore) lockAccount(ctx context.Context, id, name string) (func(), error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("cannot lock account %s: its id %s is not one keyfob made", quoteShort(name, 40), quoteShort(id, 20))
	}
	sess, err := s.lockSession(ctx)
	if err != nil {
		return nil, err
	}
	mu := concurrency.NewMutex(sess, s.lockPrefix(id))
	lctx, cancel := context.WithTimeout(ctx, s.lockWait)
	defer cancel()
	if err := mu.Lock(lctx); err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("stopped waiting for account %q: %w", name, ctx.Err())
		case errors.Is(err, context.DeadlineExceeded):
			return nil, fmt.Errorf("%w: gave up after %v waiting for account %q, held by %s; wait for it to finish or stop it (a holder that died lets go within %d s)",
				ErrLockTimeout, s.lockWait, name, s.lockHolder(id), etcdLockTTL)
		}
		return nil, s.unavailable(err)
	}
	s.writeHolder(mu, sess)
	s.mu.Lock()
	s.held[id] = mu
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.held, id)
		s.mu.Unlock()
		if s.unlock(mu) != nil {
			go s.unlockLater(mu, sess)
		}
	}, nil
}

func (s *etcdStore) unlock(mu *concurrency.Mutex) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	return mu.Unlock(ctx)
}

// unlockLater keeps trying to let go of a lock the cluster could not
// take back when it was done with (no quorum): this process's lease stays
// alive as long as it runs, so without it a long-lived process (serve, the
// TUI) would hold the account from every other machine for good. It stops
// when the lock is let go of or the lease has ended (which lets go too).
func (s *etcdStore) unlockLater(mu *concurrency.Mutex, sess *concurrency.Session) {
	wait := 250 * time.Millisecond
	for {
		select {
		case <-sess.Done():
			return
		case <-time.After(wait):
		}
		if err := s.unlock(mu); err == nil || errors.Is(err, concurrency.ErrLockReleased) {
			return
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// writeHolder puts who holds the lock into its key, for the messages of
// those who wait (best effort).
func (s *etcdStore) writeHolder(mu *concurrency.Mutex, sess *concurrency.Session) {
	host, _ := os.Hostname()
	note := ownerNote()
	if host != "" {
		note = fmt.Sprintf("%s on %s", note[:len(note)-1], host)
	}
	_ = s.call(context.Background(), func(c context.Context, cli *clientv3.Client) error {
		_, err := cli.Txn(c).If(mu.IsOwner()).Then(clientv3.OpPut(mu.Key(), note, clientv3.WithLease(sess.Lease()))).Commit()
		return err
	})
}

// lockHolder names who holds the account's lock.
func (s *etcdStore) lockHolder(id string) string {
	const unknown = "another keyfob process"
	var resp *clientv3.GetResponse
	err := s.call(context.Background(), func(c context.Context, cli *clientv3.Client) (err error) {
		resp, err = cli.Get(c, s.lockPrefix(id)+"/", clientv3.WithFirstCreate()...)
		return err
	})
	if err != nil || len(resp.Kvs) == 0 || len(resp.Kvs[0].Value) == 0 || len(resp.Kvs[0].Value) > 200 {
		return unknown
	}
	return "keyfob process " + stripControl(string(resp.Kvs[0].Value))
}

func stripControl(s string) string {
	out := []rune{}
	for _, r := range s {
		if !controlRune(r) {
			out = append(out, r)
		}
	}
	return string(out)
}

// etcdPending is a refresh's write, checked before the request.
type etcdPending struct {
	s   *etcdStore
	id  string
	rev int64
	mu  *concurrency.Mutex
}

// prepare makes sure, before a refresh request, that its result can be
// written: the cluster answers with a quorum, the account is still at the
// revision read, and this process still holds its lock. Otherwise the
// request is not sent: a rotated token that could not be stored would
// have to live in a recovery file on this machine alone.
func (s *etcdStore) prepare(ctx context.Context, a Account) (pendingWrite, error) {
	s.mu.Lock()
	mu := s.held[a.ID]
	s.mu.Unlock()
	if mu == nil {
		return nil, fmt.Errorf("the lock of %q is not held", a.Name)
	}
	if err := s.settleMeta(ctx); err != nil {
		return nil, err
	}
	key := s.accountKey(a.ID)
	cmps, _ := s.metaCmps()
	cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(key), "=", a.Revision), mu.IsOwner())
	var resp *clientv3.TxnResponse
	err := s.call(ctx, func(c context.Context, cli *clientv3.Client) (err error) {
		// The read makes the check linearizable (a transaction without
		// operations is answered by whichever member gets it, quorum or
		// not).
		resp, err = cli.Txn(c).If(cmps...).Then(clientv3.OpGet(key, clientv3.WithCountOnly())).Commit()
		return err
	})
	if err != nil {
		return nil, err
	}
	if !resp.Succeeded {
		return nil, errCASLost
	}
	// Where a result that etcd refuses would go.
	_ = os.MkdirAll(filepath.Join(s.local.dir, recoveryDir), 0o700)
	return &etcdPending{s: s, id: a.ID, rev: a.Revision, mu: mu}, nil
}

// commit writes a with a compare-and-swap on the revision prepare checked,
// while this process holds the account's lock. A lost swap, or a cluster
// that stays unreachable, fails: the Manager then keeps a in a recovery
// file (see saveRecovery).
func (p *etcdPending) commit(a Account) (Account, error) {
	s := p.s
	val, err := s.encodeAccount(a)
	if err != nil {
		return a, err
	}
	key := s.accountKey(a.ID)
	cmps, ops := s.metaCmps()
	cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(key), "=", p.rev), p.mu.IsOwner())
	ops = append(ops, clientv3.OpPut(key, val))
	if p.rev == 0 {
		// An account only a recovery file held: its name comes with it.
		nk := s.nameKey(a.Name)
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(nk), "=", 0))
		ops = append(ops, clientv3.OpPut(nk, a.ID))
	}
	ctx := context.Background()
	deadline := time.Now().Add(etcdCommitWait)
	for {
		var resp *clientv3.TxnResponse
		err = s.call(ctx, func(c context.Context, cli *clientv3.Client) (err error) {
			resp, err = cli.Txn(c).If(cmps...).Then(ops...).Commit()
			return err
		})
		switch {
		case err == nil && resp.Succeeded:
			s.wrote(resp.Header.Revision)
			a.Revision = resp.Header.Revision
			s.local.dropRecovery(a)
			return a, nil
		case err == nil:
			// An earlier try may have gone through with its answer lost.
			if cur, ok, rerr := s.record(ctx, a.ID); rerr == nil && ok && cur.Rotation == a.Rotation &&
				cur.RefreshToken == a.RefreshToken && cur.AccessToken == a.AccessToken {
				return cur, nil
			}
			return a, errCASLost
		case time.Now().After(deadline):
			return a, err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (p *etcdPending) abort() {}

// saveRecovery keeps a, which etcd did not take, in a recovery file on
// this machine; every read here lays it over the store until a write
// merges it back (see mergeRecovery).
func (s *etcdStore) saveRecovery(a Account) (string, error) {
	return s.local.saveRecovery(a)
}

// mergeRecovery writes the rotations that this machine keeps in recovery
// files back into etcd, each under its account's lock when nobody holds
// it (a refresh under way merges its own), and removes the files etcd now
// holds. The locks are taken in a session of their own, so that one this
// process holds elsewhere counts as taken.
func (s *etcdStore) mergeRecovery(ctx context.Context) {
	recs := s.local.allRecovery()
	if len(recs) == 0 || !s.merging.CompareAndSwap(false, true) {
		return
	}
	defer s.merging.Store(false)
	sess, err := s.newSession(ctx)
	if err != nil {
		return
	}
	defer sess.Close()
	for _, r := range recs {
		mu := concurrency.NewMutex(sess, s.lockPrefix(r.acct.ID))
		if s.call(ctx, func(c context.Context, _ *clientv3.Client) error { return mu.TryLock(c) }) != nil {
			continue
		}
		s.mergeOne(ctx, r, mu)
		_ = s.call(ctx, func(c context.Context, _ *clientv3.Client) error { return mu.Unlock(c) })
	}
}

// mergeOne writes the account of recovery file r back when it holds a
// later rotation than etcd (adding it, under a free name, when etcd has
// none), and removes the file once etcd holds it.
func (s *etcdStore) mergeOne(ctx context.Context, r recovered, mu *concurrency.Mutex) {
	cur, exists, err := s.record(ctx, r.acct.ID)
	switch {
	case err != nil:
		return
	case !exists && s.local.removing(r.acct.ID):
		s.local.finishRemoval(r.acct.ID) // a removal that a crash cut short
	case !exists:
		a := r.acct
		if ValidateName(a.Name) != nil {
			a.Name = defaultName(a)
		}
		err := s.update(ctx, func(t tx) error {
			name, err := uniqueNameFor(t, a.Name, a.ID)
			a.Name, a.Revision = name, 0
			t.put(a)
			return err
		})
		if err == nil {
			s.noticef("the account %q, kept in a recovery file on this machine after a failed save, is back in %s", a.Name, s.loc)
		}
	case newerRotation(r.acct, cur):
		a := takeRecovered(cur, r.acct, false)
		val, err := s.encodeAccount(a)
		if err != nil {
			return
		}
		cmps, _ := s.metaCmps()
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(s.accountKey(a.ID)), "=", cur.Revision), mu.IsOwner())
		var resp *clientv3.TxnResponse
		err = s.call(ctx, func(c context.Context, cli *clientv3.Client) (err error) {
			resp, err = cli.Txn(c).If(cmps...).Then(clientv3.OpPut(s.accountKey(a.ID), val)).Commit()
			return err
		})
		if err == nil && resp.Succeeded {
			s.local.dropRecovery(a)
			s.noticef("the new refresh token of %q, kept in a recovery file on this machine after a failed save, is back in %s", a.Name, s.loc)
		}
	default:
		s.local.dropRecovery(cur)
	}
}

// merging is set while mergeRecovery runs (its own writes would start it
// again).
type mergeFlag = atomic.Bool

// markRemoving leaves a tombstone for each account of removes that has a
// recovery file on this machine, and returns their ids.
func (s *etcdStore) markRemoving(removes map[string]bool) ([]string, error) {
	var marked []string
	for id := range removes {
		if len(s.local.recoveryFor(id)) == 0 || s.local.removing(id) {
			continue
		}
		if err := s.local.markRemoving(id); err != nil {
			return marked, fmt.Errorf("cannot mark the recovery file of the account %s as removed: %w", id, err)
		}
		marked = append(marked, id)
	}
	return marked, nil
}
