package serve

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// fakeConn is a connection from a client that only records being closed.
type fakeConn struct {
	net.Conn
	addr   *net.TCPAddr
	closed bool
}

func (c *fakeConn) RemoteAddr() net.Addr { return c.addr }
func (c *fakeConn) Close() error         { c.closed = true; return nil }

// fakeListener hands out the connections sent to it, and io.EOF when
// there is none.
type fakeListener struct{ conns chan net.Conn }

func (l fakeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	default:
		return nil, io.EOF
	}
}
func (l fakeListener) Close() error   { return nil }
func (l fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7531} }

// limiterTest drives a connLimiter over a fakeListener with a clock of its
// own.
type limiterTest struct {
	t   *testing.T
	ln  fakeListener
	l   *connLimiter
	now time.Time
}

func newLimiterTest(t *testing.T, max, perAddr int) *limiterTest {
	lt := &limiterTest{t: t, ln: fakeListener{conns: make(chan net.Conn, 1)}, now: time.Unix(1e9, 0)}
	lt.l = newConnLimiter(lt.ln, max, perAddr, newRequestLog(nil))
	lt.l.now = func() time.Time { return lt.now }
	return lt
}

// open is a new connection from client 10.0.0.ip; the limiter admits it
// (lc set) or refuses it (closed at once).
func (lt *limiterTest) open(ip byte) (fc *fakeConn, lc *limitedConn) {
	lt.t.Helper()
	fc = &fakeConn{addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, ip), Port: 1000}}
	refused := lt.l.refused
	lt.ln.conns <- fc
	c, err := lt.l.Accept()
	if c != nil {
		return fc, c.(*limitedConn)
	}
	if err != io.EOF || lt.l.refused != refused+1 || !fc.closed {
		lt.t.Fatalf("neither admitted nor refused: %v", err)
	}
	return fc, nil
}

// TestConnLimiterPerClient: at its limit, a client's newcomer is refused
// until its longest-waiting connection has waited minWait, and then takes
// its place.
func TestConnLimiterPerClient(t *testing.T) {
	t.Parallel()
	lt := newLimiterTest(t, 10, 2)
	a1, _ := lt.open(1)
	a2, _ := lt.open(1)
	if a3, lc := lt.open(1); lc != nil || !a3.closed || a1.closed || a2.closed {
		t.Fatalf("a third connection of a client at its limit of 2 was admitted, or made room")
	}
	lt.now = lt.now.Add(minWait)
	if a4, lc := lt.open(1); lc == nil || a4.closed || !a1.closed || a2.closed {
		t.Fatalf("after %v, the newcomer did not take the place of the longest waiting", minWait)
	}
	if _, lc := lt.open(2); lc == nil {
		t.Fatal("another client was refused")
	}
}

// TestConnLimiterTotal: at the total limit, a newcomer from a client that
// holds fewer connections takes the place of the busiest client's longest
// waiting, however young; one from a client as busy waits for minWait as
// at its own limit.
func TestConnLimiterTotal(t *testing.T) {
	t.Parallel()
	lt := newLimiterTest(t, 4, 10)
	a1, _ := lt.open(1)
	a2, _ := lt.open(1)
	a3, _ := lt.open(1)
	lt.open(2)
	c1, lc1 := lt.open(3)
	if lc1 == nil || !a1.closed || a2.closed || a3.closed {
		t.Fatal("a newcomer of a quiet client did not take the place of the busiest client's longest waiting")
	}
	if c2, lc := lt.open(3); lc != nil || !c2.closed || c1.closed {
		t.Fatal("a newcomer of a client as busy as the others made room before minWait")
	}
	lt.now = lt.now.Add(minWait)
	if _, lc := lt.open(3); lc == nil || !c1.closed || a2.closed {
		t.Fatal("after minWait, the newcomer did not take the place of its client's longest waiting")
	}
	if lt.l.all.n != 4 || lt.l.byAddr["10.0.0.1"].n != 2 || lt.l.byAddr["10.0.0.3"].n != 1 {
		t.Fatalf("counts: %d in all, %d of A, %d of C", lt.l.all.n, lt.l.byAddr["10.0.0.1"].n, lt.l.byAddr["10.0.0.3"].n)
	}
}

// TestConnLimiterNeverClosesOneBeingAnswered: a connection that starts a
// request or goes idle waits anew; one being answered is never closed;
// when every one is, the newcomer is refused; a closed one no longer
// counts.
func TestConnLimiterNeverClosesOneBeingAnswered(t *testing.T) {
	t.Parallel()
	lt := newLimiterTest(t, 3, 10)
	a1, la1 := lt.open(1)
	a2, la2 := lt.open(1)
	a3, la3 := lt.open(1)
	lt.l.connState(la1, http.StateActive) // a1 waits anew: a2, a3, a1
	answering := func(lc *limitedConn) func() {
		return serving((&http.Request{}).WithContext(connContext(t.Context(), lc)))
	}
	done2 := answering(la2)
	if b1, lc := lt.open(2); lc == nil || b1.closed || !a3.closed || a1.closed || a2.closed {
		t.Fatalf("closed a1 %v a2 %v a3 %v: want a3, the longest waiting not being answered", a1.closed, a2.closed, a3.closed)
	}
	_ = la3.Close() // closed already: counts once
	done1 := answering(la1)
	if _, lc := lt.open(3); lc != nil || a1.closed || a2.closed {
		t.Fatal("a connection being answered was closed to make room")
	}
	done1()
	done2()
	_ = la2.Close()
	if _, lc := lt.open(3); lc == nil || lt.l.all.n != 3 {
		t.Fatalf("after a close, %d open", lt.l.all.n)
	}
}

// TestConnLimitsLeaveDescriptorsFree: the connection limit leaves
// fdReserve descriptors free under a low descriptor limit, and the limit
// per client is at most the total.
func TestConnLimitsLeaveDescriptorsFree(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ max, perAddr, fds, wantMax, wantPer int }{
		{0, 0, 0, DefaultMaxConns, DefaultMaxConnsPerAddr},
		{0, 0, 1 << 20, DefaultMaxConns, DefaultMaxConnsPerAddr},
		{0, 0, 512, 512 - fdReserve, DefaultMaxConnsPerAddr},
		{0, 0, 300, 300 - fdReserve, 300 - fdReserve},
		{5000, 10, 1 << 20, 5000, 10},
		{0, 0, 100, minConns, minConns},
	} {
		if m, p := connLimits(tc.max, tc.perAddr, tc.fds); m != tc.wantMax || p != tc.wantPer {
			t.Errorf("connLimits(%d, %d, %d) = %d, %d; want %d, %d", tc.max, tc.perAddr, tc.fds, m, p, tc.wantMax, tc.wantPer)
		}
	}
}
