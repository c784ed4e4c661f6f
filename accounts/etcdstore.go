package accounts

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"
	"google.golang.org/grpc/grpclog"
)

// etcdStore keeps accounts in an etcd cluster (v3 API), under a prefix of
// its own, so that keyfob processes on several machines share them:
//
//	PREFIX/v1/meta               the store's format, and the check of its key
//	PREFIX/v1/accounts/ID        an account, its secrets sealed (see storeKey)
//	PREFIX/v1/names/NAME         the id of the account named NAME (case-folded)
//	PREFIX/v1/consumers/HASH     a consumer of the token service
//	PREFIX/v1/locks/ID/LEASE     the lock of an account (concurrency.Mutex)
//
// Every write is a transaction that compares the mod revision of each key
// it read (and of the meta, so that a process that has not seen a rekey
// writes nothing), and a name moves with its record in the same
// transaction. An account's Revision is its key's mod revision. A refresh
// holds the account's lock, a mutex under a lease that dies with its
// holder, and writes its result only while it still holds it; a result
// that cannot be written goes to a recovery file on this machine (see
// etcdstore_lock.go), which is merged back on a later write.
type etcdStore struct {
	loc       string   // the location as given, for messages
	endpoints []string // host:port
	base      string   // PREFIX/
	cfg       clientv3.Config
	timeout   time.Duration
	lockWait  time.Duration
	key       *storeKey // nil: plain text (EtcdOptions.Plaintext)
	notice    func(string)
	// local keeps what this machine could not write to etcd: recovery
	// files, in the way a file store keeps them.
	local *fileStore

	mu      sync.Mutex
	cli     *clientv3.Client
	metaRev int64                         // the meta's mod revision as checked; 0: no store yet, -1: to read again
	held    map[string]*concurrency.Mutex // the account locks this process holds, by id

	sessMu  sync.Mutex
	session *concurrency.Session // the lease of this process's locks
	merging mergeFlag
}

// EtcdOptions configure an etcd store (Options.Etcd).
type EtcdOptions struct {
	// CA, Cert and Key are PEM files: the CA that signed the members'
	// certificates, and this client's certificate and key. Any of them
	// makes keyfob speak TLS to etcd.
	CA, Cert, Key string
	// Username and Password authenticate keyfob to etcd.
	Username, Password string
	// KeyFile is the store key (see loadStoreKey); Plaintext allows a
	// store without one, whose tokens etcd then holds in plain text.
	KeyFile   string
	Plaintext bool
	// Timeout bounds every request to etcd (DefaultEtcdTimeout when 0).
	Timeout time.Duration
}

// DefaultEtcdTimeout bounds a request to etcd: long enough for the
// election of a new leader, short enough for a script to hear of an
// unreachable cluster.
const DefaultEtcdTimeout = 5 * time.Second

// etcdLockTTL is the lease of an account's lock, in seconds: a holder
// that dies lets go of the lock this long after its last keep-alive.
const etcdLockTTL = 10

// etcdLayout is the version of the key layout, the "v1" of every key.
const etcdLayout = "v1"

// etcdScheme starts an etcd store location.
const etcdScheme = "etcd://"

// parseEtcdLocation splits etcd://HOST:PORT[,HOST:PORT...]/PREFIX.
func parseEtcdLocation(loc string) (endpoints []string, prefix string, err error) {
	rest := strings.TrimPrefix(loc, etcdScheme)
	hosts, prefix, _ := strings.Cut(rest, "/")
	shown := loc
	if at := strings.LastIndex(hosts, "@"); at >= 0 {
		shown = etcdScheme + "…@" + rest[at+1:] // never repeat a password
	}
	bad := func(problem string) error { return &LocationError{Location: shown, Problem: problem} }
	switch {
	case strings.ContainsAny(rest, "?#"):
		return nil, "", bad("an etcd location takes no query; give TLS files and credentials with --etcd-ca, --etcd-cert, --etcd-key and KEYFOB_ETCD_USERNAME/KEYFOB_ETCD_PASSWORD")
	case strings.Contains(hosts, "@"):
		return nil, "", bad("credentials do not go in the location, where every process listing shows them; use KEYFOB_ETCD_USERNAME and KEYFOB_ETCD_PASSWORD")
	case hosts == "":
		return nil, "", bad("it names no etcd member; use etcd://HOST:PORT[,HOST:PORT...]/PREFIX")
	}
	for _, h := range strings.Split(hosts, ",") {
		host, port, err := net.SplitHostPort(h)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return nil, "", bad(fmt.Sprintf("%s is not HOST:PORT (etcd listens for clients on port 2379 by default)", quoteShort(h, 60)))
		}
		endpoints = append(endpoints, h)
	}
	prefix = strings.Trim(prefix, "/")
	switch {
	case prefix == "":
		return nil, "", bad("it names no prefix for keyfob's keys; add one, e.g. etcd://" + hosts + "/keyfob")
	case strings.Contains(prefix, "//"), strings.IndexFunc(prefix, controlRune) >= 0:
		return nil, "", bad("the prefix must be words separated by single slashes, e.g. keyfob or teams/keyfob")
	}
	return endpoints, prefix, nil
}

// openEtcd returns the etcd store at loc. Nothing is sent before the
// first operation; the key file is read now, so that a missing or loose
// one is told before anything else.
func openEtcd(loc, dir string, opts EtcdOptions, lockWait time.Duration, notice func(string)) (*etcdStore, error) {
	endpoints, prefix, err := parseEtcdLocation(loc)
	if err != nil {
		return nil, err
	}
	s := &etcdStore{loc: loc, endpoints: endpoints, base: prefix + "/", timeout: opts.Timeout, lockWait: lockWait,
		notice: notice, held: map[string]*concurrency.Mutex{}}
	if s.timeout <= 0 {
		s.timeout = DefaultEtcdTimeout
	}
	if s.lockWait <= 0 {
		s.lockWait = DefaultLockTimeout
	}
	switch {
	case opts.KeyFile != "" && opts.Plaintext:
		return nil, &LocationError{Location: loc, Problem: "--store-key-file and --store-plaintext say opposite things; give one"}
	case opts.KeyFile != "":
		if s.key, err = loadStoreKey(opts.KeyFile); err != nil {
			return nil, err
		}
	case !opts.Plaintext:
		return nil, &StoreKeyError{Location: loc, Problem: "it needs a store key, which encrypts the tokens etcd keeps: " +
			"create one with `openssl rand -base64 32 > FILE && chmod 600 FILE` and give it with --store-key-file FILE " +
			"or KEYFOB_STORE_KEY_FILE (or, to keep tokens in plain text in etcd, --store-plaintext)"}
	}
	tlsConf, err := etcdTLS(opts)
	if err != nil {
		return nil, err
	}
	scheme := "http://"
	if tlsConf != nil {
		scheme = "https://"
	}
	eps := make([]string, len(endpoints))
	for i, h := range endpoints {
		eps[i] = scheme + h
	}
	s.cfg = clientv3.Config{Endpoints: eps, DialTimeout: s.timeout, TLS: tlsConf,
		Username: opts.Username, Password: opts.Password, Logger: zap.NewNop(),
		DialKeepAliveTime: 5 * time.Second, DialKeepAliveTimeout: 3 * time.Second}
	sum := sha256.Sum256([]byte(strings.Join(endpoints, ",") + "/" + prefix))
	s.local = &fileStore{dir: filepath.Join(dir, "etcd", hex.EncodeToString(sum[:6])), notice: notice}
	return s, nil
}

// etcdTLS is the TLS configuration of opts, or nil without TLS files.
func etcdTLS(opts EtcdOptions) (*tls.Config, error) {
	if opts.CA == "" && opts.Cert == "" && opts.Key == "" {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.CA != "" {
		pem, err := os.ReadFile(opts.CA)
		if err != nil {
			return nil, fmt.Errorf("cannot read the etcd CA file (--etcd-ca): %w", err)
		}
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("the etcd CA file %s holds no PEM certificate", opts.CA)
		}
	}
	if (opts.Cert == "") != (opts.Key == "") {
		return nil, errors.New("--etcd-cert and --etcd-key go together: give both, or neither")
	}
	if opts.Cert != "" {
		pair, err := tls.LoadX509KeyPair(opts.Cert, opts.Key)
		if err != nil {
			return nil, fmt.Errorf("cannot load the etcd client certificate (--etcd-cert, --etcd-key): %w", err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	return conf, nil
}

// gRPC logs connection trouble on stderr by itself; keyfob says what went
// wrong in its own errors. (Its logger must be set before gRPC runs.)
func init() { grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, io.Discard)) }

// client returns the etcd client, made on first use.
func (s *etcdStore) client() (*clientv3.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cli != nil {
		return s.cli, nil
	}
	cli, err := clientv3.New(s.cfg)
	if err != nil {
		return nil, s.unavailable(err)
	}
	s.cli = cli
	return cli, nil
}

func (s *etcdStore) location() string { return s.loc }

// keyURL names a key in messages.
func (s *etcdStore) keyURL(key string) string {
	return etcdScheme + strings.Join(s.endpoints, ",") + "/" + key
}

func (s *etcdStore) metaKey() string             { return s.base + etcdLayout + "/meta" }
func (s *etcdStore) accountsPrefix() string      { return s.base + etcdLayout + "/accounts/" }
func (s *etcdStore) accountKey(id string) string { return s.accountsPrefix() + id }
func (s *etcdStore) namesPrefix() string         { return s.base + etcdLayout + "/names/" }
func (s *etcdStore) consumersPrefix() string     { return s.base + etcdLayout + "/consumers/" }
func (s *etcdStore) lockPrefix(id string) string { return s.base + etcdLayout + "/locks/" + id }

// nameKey is the key of a name: its case-folded form, escaped so that a
// slash in a name makes no deeper key.
func (s *etcdStore) nameKey(name string) string {
	return s.namesPrefix() + strings.NewReplacer("%", "%25", "/", "%2F").Replace(foldName(name))
}

// call runs fn with a context bounded by the store's timeout that fails
// at once on a member without a leader, and turns a failure to reach the
// cluster into a *StoreUnavailableError.
func (s *etcdStore) call(ctx context.Context, fn func(context.Context, *clientv3.Client) error) error {
	cli, err := s.client()
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), s.timeout)
	defer cancel()
	if err := fn(cctx, cli); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.unavailable(err)
	}
	return nil
}

// unavailable explains an error of the etcd client.
func (s *etcdStore) unavailable(err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrAuthFailed), errors.Is(err, rpctypes.ErrInvalidAuthToken):
		return fmt.Errorf("etcd at %s refused keyfob's user name or password (KEYFOB_ETCD_USERNAME, KEYFOB_ETCD_PASSWORD): %w", s.loc, err)
	case errors.Is(err, rpctypes.ErrPermissionDenied):
		return fmt.Errorf("the etcd user of keyfob may not read and write the prefix %s; grant it readwrite on that prefix: %w", s.base, err)
	case errors.Is(err, rpctypes.ErrUserEmpty):
		return fmt.Errorf("etcd at %s has authentication on: give keyfob a user with KEYFOB_ETCD_USERNAME and KEYFOB_ETCD_PASSWORD: %w", s.loc, err)
	}
	return &StoreUnavailableError{Location: s.loc, Err: err}
}

// StoreUnavailableError says that the store could not be reached, or
// could not answer in time (an etcd cluster without quorum). Nothing was
// changed.
type StoreUnavailableError struct {
	Location string
	Err      error
}

func (e *StoreUnavailableError) Error() string {
	return fmt.Sprintf("cannot reach the etcd cluster %s, or it has no quorum (%v); keyfob changed nothing — check that most of its members run and try again",
		quoteShort(e.Location, 120), e.Err)
}

func (e *StoreUnavailableError) Unwrap() error { return e.Err }

// RetryDelay is when to ask again: a new leader is elected within
// seconds.
func (e *StoreUnavailableError) RetryDelay() time.Duration { return 5 * time.Second }

// StoreKeyError says that the store key does not fit the store: missing,
// wrong, or given for a store that keeps plain text. Nothing was changed.
type StoreKeyError struct {
	Location string
	Problem  string
}

func (e *StoreKeyError) Error() string {
	return fmt.Sprintf("the store %s: %s", quoteShort(e.Location, 120), e.Problem)
}

// ForeignStoreError says that a prefix holds keys keyfob did not write:
// keyfob leaves them alone and uses none of it.
type ForeignStoreError struct {
	Location string
	Key      string
	Problem  string
}

func (e *ForeignStoreError) Error() string {
	return fmt.Sprintf("the store %s cannot be used: %s (%s); give keyfob a prefix of its own — nothing was changed",
		quoteShort(e.Location, 120), e.Problem, quoteShort(e.Key, 80))
}

// etcdMeta is what PREFIX/v1/meta holds.
type etcdMeta struct {
	Keyfob     string    `json:"keyfob"` // always "store"
	Version    int       `json:"version"`
	Encryption string    `json:"encryption"` // encAES or encNone
	KeyCheck   string    `json:"key_check,omitempty"`
	RekeyFrom  string    `json:"rekey_from,omitempty"` // the old key's check while a rekey runs
	CreatedAt  time.Time `json:"created_at,omitzero"`
}

const (
	encAES  = "aes-256-gcm"
	encNone = "none"
)

func (s *etcdStore) newMeta() etcdMeta {
	m := etcdMeta{Keyfob: "store", Version: CurrentVersion, Encryption: encNone, CreatedAt: time.Now().UTC()}
	if s.key != nil {
		m.Encryption, m.KeyCheck = encAES, s.key.check
	}
	return m
}

func (m etcdMeta) encode() string {
	b, _ := json.Marshal(m)
	return string(b)
}

func (s *etcdStore) close() error {
	s.sessMu.Lock()
	if s.session != nil {
		_ = s.session.Close()
		s.session = nil
	}
	s.sessMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cli != nil {
		err := s.cli.Close()
		s.cli = nil
		return err
	}
	return nil
}
