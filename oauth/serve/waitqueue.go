package serve

import "time"

// waitQueue is a list of connections in the order they last started to
// wait (accepted, a request begun, idle again), the longest-waiting
// first. A connection is in two at once — all of the limiter's and its
// address's — through two links of its own, so that moving or removing it
// costs O(1).
type waitQueue struct {
	head, tail *limitedConn
	n          int
}

// link is a connection's place in one waitQueue.
type link struct{ prev, next *limitedConn }

// which picks the link of one queue in a connection.
type which func(*limitedConn) *link

// The two queues a connection is in.
var (
	inAll  which = func(c *limitedConn) *link { return &c.inAll }
	inAddr which = func(c *limitedConn) *link { return &c.inAddr }
)

// push puts c at the end, as waiting since now: it has waited least.
func (q *waitQueue) push(c *limitedConn, w which, now time.Time) {
	c.since = now
	l := w(c)
	l.prev, l.next = q.tail, nil
	if q.tail != nil {
		w(q.tail).next = c
	} else {
		q.head = c
	}
	q.tail = c
	q.n++
}

// remove takes c out of q, which holds it.
func (q *waitQueue) remove(c *limitedConn, w which) {
	l := w(c)
	if l.prev != nil {
		w(l.prev).next = l.next
	} else {
		q.head = l.next
	}
	if l.next != nil {
		w(l.next).prev = l.prev
	} else {
		q.tail = l.prev
	}
	l.prev, l.next = nil, nil
	q.n--
}

// longestWaiting is the connection that has waited longest, since
// before by at the latest, and is not being answered; or nil.
// Connections being answered are few (they wait for a refresh), so the
// walk is short.
func (q *waitQueue) longestWaiting(w which, by time.Time) *limitedConn {
	for c := q.head; c != nil && !c.since.After(by); c = w(c).next {
		if c.busy.Load() == 0 {
			return c
		}
	}
	return nil
}
