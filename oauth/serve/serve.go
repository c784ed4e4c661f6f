// Package serve is keyfob's token service: an OAuth-compatible token
// endpoint that other programs (TeslaMate, Home Assistant, scripts) use
// instead of Tesla's, so that keyfob alone holds each account's single-use
// refresh token and every program still gets a valid access token.
//
// A program is a consumer (accounts.Consumer): named, tied to one
// account, and known by a credential that keyfob shows once and stores
// only as a SHA-256. It sends the credential where a refresh token would
// go:
//
//	POST {base}/oauth2/v3/token   grant_type=refresh_token&refresh_token=CREDENTIAL
//	POST {base}/token             (the same, for TeslaMate without TESLA_AUTH_PATH)
//	GET  {base}/v1/token/NAME     Authorization: Bearer CREDENTIAL
//
// and gets the account's current access token, refreshed upstream first
// through accounts.Manager.Token (the locked path every keyfob command
// takes) when it expires within the margin. The answer to the first is
// Tesla's: access_token, token_type, expires_in, refresh_token (the same
// credential, so the consumer keeps using it) and created_at.
//
// Every response is JSON with Cache-Control: no-store; one line per
// request is logged, naming the consumer, account, status, outcome and
// latency, never a token or a credential.
package serve

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/keyfob/keyfob/accounts"
)

// Defaults of Options.
const (
	DefaultAddr       = "127.0.0.1:7531"
	DefaultFlushEvery = time.Minute
	// MaxBodyBytes bounds a request body; a token request needs a few
	// hundred bytes.
	MaxBodyBytes = 16 << 10
	// GCPercent is the garbage collector's setting `keyfob serve` runs
	// with (and the benchmarks): see runtime/debug.SetGCPercent.
	GCPercent = 400
	// MemoryLimit is the soft memory limit `keyfob serve` runs with (see
	// runtime/debug.SetMemoryLimit): the collector works harder as the
	// service nears it, so that GCPercent's headroom never lets a flood of
	// connections grow it far.
	MemoryLimit = 24 << 20
	// refreshWait bounds a refresh that requests wait for, beyond the
	// manager's own bounds on the request and the lock.
	refreshWait = 2 * time.Minute
)

// Options configure a Server.
type Options struct {
	// Manager is the store and the refresh path; required.
	Manager *accounts.Manager
	// Margin: a token expiring within it is refreshed before it is
	// served (capped at half its lifetime, see Account.EffectiveMargin);
	// 0 means accounts.DefaultRefreshMargin.
	Margin time.Duration
	// Log receives one line per request and the service's own notes; nil
	// discards them.
	Log io.Writer
	// FlushEvery is how often the consumers' last uses are written to the
	// store (DefaultFlushEvery when 0); never once per request.
	FlushEvery time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// PublicKey returns the PEM public key of the user's Fleet API app,
	// served at PublicKeyPath, or nothing when there is none; nil serves
	// none. It is asked at every request for the key.
	PublicKey func() ([]byte, error)
	// MaxConns and MaxConnsPerAddr bound the connections open at once, in
	// all and from one client address (DefaultMaxConns and
	// DefaultMaxConnsPerAddr when 0). MaxConns is lowered, when needed, to
	// leave descriptors free for saving refreshed tokens.
	MaxConns, MaxConnsPerAddr int
}

// Server answers token requests from what the store holds. It is an
// http.Handler; Serve runs it on a listener with its background work.
type Server struct {
	m      *accounts.Manager
	margin time.Duration
	now    func() time.Time
	log    *requestLog
	flushT time.Duration
	hosts  *hostSet // what Serve's listener answers; nil answers any Host
	// maxConns and maxPerAddr are the connection limits in force.
	maxConns, maxPerAddr int
	// publicKey is Options.PublicKey.
	publicKey func() ([]byte, error)
	// headerWait and bodyWait are readHeaderTimeout and bodyTimeout (a
	// test of slow clients shortens them).
	headerWait, bodyWait time.Duration

	w       *accounts.Watcher
	flights flights
	metrics *metrics

	usesMu sync.Mutex
	uses   map[string]accounts.ConsumerUse // by credential hash, since the last flush
}

// New returns a server over opts.Manager's store, which it reads at once:
// a store that cannot be read is an error here, not at the first request.
func New(opts Options) (*Server, error) {
	s := &Server{
		m: opts.Manager, margin: opts.Margin, now: opts.Now, log: newRequestLog(opts.Log),
		flushT: opts.FlushEvery, uses: map[string]accounts.ConsumerUse{}, publicKey: opts.PublicKey,
		headerWait: readHeaderTimeout, bodyWait: bodyTimeout,
	}
	if s.margin <= 0 {
		s.margin = accounts.DefaultRefreshMargin
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.flushT <= 0 {
		s.flushT = DefaultFlushEvery
	}
	s.maxConns, s.maxPerAddr = connLimits(opts.MaxConns, opts.MaxConnsPerAddr, fdLimit())
	w, err := s.m.Watch(context.Background(), watchEvery)
	if err != nil {
		return nil, err
	}
	s.w = w
	s.metrics = newMetrics(s)
	return s, nil
}

// Close stops the server's watch of the store.
func (s *Server) Close() { s.w.Close() }

// Consumers is how many consumers the server knows, and of how many
// accounts.
func (s *Server) Consumers() (consumers, accts int) {
	cs := s.w.Consumers()
	seen := map[string]bool{}
	for _, c := range cs {
		seen[c.AccountID] = true
	}
	return len(cs), len(seen)
}

// Limits reports the connection limits in force: in all and per client
// address.
func (s *Server) Limits() (total, perAddr int) { return s.maxConns, s.maxPerAddr }

// maintain writes the last uses now and then, retries saving the rotated
// tokens that the store could not take, and says how many failure lines
// the log left out and connections the limits closed, until ctx ends.
func (s *Server) maintain(ctx context.Context, limits *connLimiter) {
	flush := time.NewTicker(s.flushT)
	defer flush.Stop()
	retry := time.NewTicker(unsavedRetry)
	defer retry.Stop()
	dropped := time.NewTicker(droppedEvery)
	defer dropped.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			s.Flush(ctx)
		case <-retry.C:
			if n := s.m.SaveUnsaved(ctx); n > 0 {
				s.log.note("%d rotated refresh tokens are still held in memory only: the store cannot be written; free disk space or fix permissions before stopping keyfob serve", n)
			}
		case <-dropped.C:
			s.log.sayDropped()
			limits.report()
		}
	}
}

// Intervals of the background work.
const (
	// unsavedRetry is how often rotated tokens held in memory are saved
	// again.
	unsavedRetry = 5 * time.Second
	// droppedEvery is how often the log says how many failure lines it
	// left out, when no failure line since has.
	droppedEvery = 10 * time.Second
)

// noteUse remembers the latest use of a credential, for the next flush.
func (s *Server) noteUse(hash string, at time.Time, addr string) {
	s.usesMu.Lock()
	s.uses[hash] = accounts.ConsumerUse{At: at, Address: addr}
	s.usesMu.Unlock()
}

// Flush writes the last uses seen since the previous flush to the store
// in one write. Uses that cannot be written are kept for the next try.
func (s *Server) Flush(ctx context.Context) {
	s.usesMu.Lock()
	uses := s.uses
	s.uses = map[string]accounts.ConsumerUse{}
	s.usesMu.Unlock()
	if len(uses) == 0 {
		return
	}
	if err := s.m.RecordConsumerUses(ctx, uses); err != nil {
		s.log.note("could not record the consumers' last uses: %v", err)
		s.usesMu.Lock()
		for h, u := range uses {
			if cur, ok := s.uses[h]; !ok || u.At.After(cur.At) {
				s.uses[h] = u
			}
		}
		s.usesMu.Unlock()
	}
}

// flights runs one refresh per account at a time: concurrent requests for
// the same expired token wait for the one in flight and share its result.
type flights struct {
	mu    sync.Mutex
	calls map[string]*flight
}

type flight struct {
	done chan struct{}
	got  accounts.Refreshed
	err  error
}

// do runs fn for key, or waits for the run already in flight.
func (f *flights) do(key string, fn func() (accounts.Refreshed, error)) (accounts.Refreshed, error) {
	f.mu.Lock()
	if c, ok := f.calls[key]; ok {
		f.mu.Unlock()
		<-c.done
		return c.got, c.err
	}
	if f.calls == nil {
		f.calls = map[string]*flight{}
	}
	c := &flight{done: make(chan struct{})}
	f.calls[key] = c
	f.mu.Unlock()
	c.got, c.err = fn()
	f.mu.Lock()
	delete(f.calls, key)
	f.mu.Unlock()
	close(c.done)
	return c.got, c.err
}
