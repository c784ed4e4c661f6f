package serve

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Connection limits. A connection costs the service a descriptor and some
// memory whatever it sends, so an unauthenticated flood of idle or slow
// connections could otherwise take every descriptor (a rotated refresh
// token then cannot be saved) and grow the service without bound.
const (
	// DefaultMaxConns bounds the connections open at once.
	DefaultMaxConns = 512
	// DefaultMaxConnsPerAddr bounds those of one client address (an IPv6
	// client's /64), so that one client cannot take every place.
	DefaultMaxConnsPerAddr = 256
	// fdReserve descriptors are never given to connections: saving a
	// refresh needs a few (the store and its directory, lock files, a
	// temporary file, a recovery file), the refresh itself a socket, the
	// log and the listener their own.
	fdReserve = 128
	// minConns is the fewest connections a low descriptor limit leaves.
	minConns = 8
	// minWait is how long a connection waits before a newcomer from its
	// own client may take its place: a client that opens connections
	// faster than it uses them has the new ones refused.
	minWait = time.Second
)

// connLimiter is a listener that keeps at most max connections open, and
// at most perAddr from one address (a client). At a limit, a connection
// that is waiting — idle between requests, or still sending its request —
// makes room for the newcomer; one whose request is being answered never
// does. Which one, fairly between clients:
//
//   - at the total limit, a newcomer whose client holds fewer connections
//     than the busiest client (by two or more) takes the place of that
//     client's longest-waiting connection;
//   - otherwise (and at the limit per client) it takes the place of its own
//     client's longest-waiting connection, if that has waited at least
//     minWait, and is refused if not.
//
// A client that opens connections by the thousand thus mostly has them
// refused (which costs the service next to nothing) and can never crowd
// out another client: a real consumer's connection always finds room,
// and once in, only its own client's newer connections could take its
// place. Making room costs O(1) per client, plus a look over the clients
// for the busiest: the connections are kept in the order they started to
// wait, in all and per client.
type connLimiter struct {
	net.Listener
	max, perAddr int // perAddr 0: no limit per address
	log          *requestLog
	now          func() time.Time

	mu     sync.Mutex
	all    waitQueue
	byAddr map[string]*waitQueue
	// closed and refused count the connections closed to make room and
	// refused since the last report.
	closed, refused int
}

// limitedConn is one connection the limiter counts.
type limitedConn struct {
	net.Conn
	l    *connLimiter
	addr string
	// busy counts the requests on it being answered (HTTP/2 has several).
	busy atomic.Int32
	// Guarded by l.mu: its places in the limiter's queues, since when it
	// has waited, and whether it no longer counts.
	inAll, inAddr link
	since         time.Time
	gone          bool
}

func newConnLimiter(ln net.Listener, max, perAddr int, log *requestLog) *connLimiter {
	if _, unix := ln.Addr().(*net.UnixAddr); unix {
		perAddr = 0 // every client of a socket has the same (empty) address
	}
	return &connLimiter{Listener: ln, max: max, perAddr: perAddr, log: log, now: time.Now, byAddr: map[string]*waitQueue{}}
}

// Accept implements net.Listener.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc, victim, full := l.admit(c)
		if victim != nil {
			_ = victim.Conn.Close()
		}
		if lc != nil {
			return lc, nil
		}
		_ = c.Close()
		l.log.limited("refused a connection from %s: %s, and none that may make room for it has waited %v", clientAddr(c.RemoteAddr()), full, minWait)
	}
}

// report logs how many connections were closed to make room, and how
// many refused, since it last did (the maintenance loop calls it every
// droppedEvery): one line however large the flood.
func (l *connLimiter) report() {
	l.mu.Lock()
	closed, refused, open := l.closed, l.refused, l.all.n
	l.closed, l.refused = 0, 0
	l.mu.Unlock()
	if closed+refused > 0 {
		l.log.note("connection limits reached: %d waiting connections closed to make room, %d refused; %d open (limits %d, %d per address)",
			closed, refused, open, l.max, l.perAddr)
	}
}

// admit counts c, making room for it when a limit is reached: it returns
// the connection to close for c, if any; or nil and which limit is full
// when there is no room.
func (l *connLimiter) admit(c net.Conn) (lc, victim *limitedConn, full string) {
	addr := clientAddr(c.RemoteAddr())
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.byAddr[addr]
	held := 0
	if q != nil {
		held = q.n
	}
	switch {
	case l.perAddr > 0 && held >= l.perAddr:
		full = fmt.Sprintf("its client has %d connections open (--max-conns-per-addr)", l.perAddr)
	case l.all.n >= l.max:
		full = fmt.Sprintf("%d connections are open (--max-conns), none from a busier client", l.max)
		if b := l.busiest(); b != nil && held+1 < b.n {
			victim = b.longestWaiting(inAddr, now)
		}
	}
	if full != "" && victim == nil && q != nil {
		victim = q.longestWaiting(inAddr, now.Add(-minWait))
	}
	switch {
	case full != "" && victim == nil:
		l.refused++
		return nil, nil, full
	case victim != nil:
		if l.closed == 0 {
			l.log.limited("connection limit reached: closing the connection from %s that waited longest, to make room for one from %s; "+
				"counted every %v", victim.addr, addr, droppedEvery)
		}
		l.closed++
		l.releaseLocked(victim)
		q = l.byAddr[addr]
	}
	if q == nil {
		q = &waitQueue{}
		l.byAddr[addr] = q
	}
	lc = &limitedConn{Conn: c, l: l, addr: addr}
	l.all.push(lc, inAll, now)
	q.push(lc, inAddr, now)
	return lc, victim, ""
}

// busiest is the queue of the client with the most connections.
func (l *connLimiter) busiest() *waitQueue {
	var b *waitQueue
	for _, q := range l.byAddr {
		if b == nil || q.n > b.n {
			b = q
		}
	}
	return b
}

func (l *connLimiter) releaseLocked(c *limitedConn) {
	if c.gone {
		return
	}
	c.gone = true
	l.all.remove(c, inAll)
	q := l.byAddr[c.addr]
	if q.remove(c, inAddr); q.n == 0 {
		delete(l.byAddr, c.addr)
	}
}

// Close implements net.Conn: the connection no longer counts.
func (c *limitedConn) Close() error {
	c.l.mu.Lock()
	c.l.releaseLocked(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// connState is the http.Server's ConnState hook: a connection that starts
// a request or goes idle starts to wait anew.
func (l *connLimiter) connState(c net.Conn, st http.ConnState) {
	lc := limitedOf(c)
	if lc == nil {
		return
	}
	switch st {
	case http.StateActive, http.StateIdle:
		l.mu.Lock()
		if !lc.gone {
			now := l.now()
			l.all.remove(lc, inAll)
			l.all.push(lc, inAll, now)
			q := l.byAddr[lc.addr]
			q.remove(lc, inAddr)
			q.push(lc, inAddr, now)
		}
		l.mu.Unlock()
	case http.StateClosed, http.StateHijacked:
		l.mu.Lock()
		l.releaseLocked(lc)
		l.mu.Unlock()
	}
}

// limitedOf is the limiter's connection under c (which TLS wraps).
func limitedOf(c net.Conn) *limitedConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	lc, _ := c.(*limitedConn)
	return lc
}

type connKey struct{}

// connContext is the http.Server's ConnContext hook: a request finds its
// connection through its context.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if lc := limitedOf(c); lc != nil {
		return context.WithValue(ctx, connKey{}, lc)
	}
	return ctx
}

// serving marks r's connection as being answered, so that no newcomer
// takes its place, until the returned function is called.
func serving(r *http.Request) (done func()) {
	lc, _ := r.Context().Value(connKey{}).(*limitedConn)
	if lc == nil {
		return func() {}
	}
	lc.busy.Add(1)
	return func() { lc.busy.Add(-1) }
}

// clientAddr is the address a client's connections count under: its IP,
// or the /64 of an IPv6 one (what one host is commonly given).
func clientAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return "unix"
	}
	if ip4 := tcp.IP.To4(); ip4 != nil {
		return ip4.String()
	}
	return tcp.IP.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// connLimits are the limits a service asking for total and perAddr (0:
// the defaults) gets under a descriptor limit of fds (0: unknown): total
// leaves fdReserve descriptors free, and perAddr is at most total.
func connLimits(total, perAddr, fds int) (int, int) {
	if total <= 0 {
		total = DefaultMaxConns
	}
	if fds > 0 {
		total = min(total, fds-fdReserve)
	}
	total = max(total, minConns)
	if perAddr <= 0 {
		perAddr = DefaultMaxConnsPerAddr
	}
	return total, min(perAddr, total)
}
