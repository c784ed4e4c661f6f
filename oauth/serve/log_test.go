package serve

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestFailureLinesAreRateLimited: lines about failed requests (and the
// limiter's notes) come logBurst at once and logRate a second after
// that; those left out are counted in one line; lines of answered
// requests are never left out.
func TestFailureLinesAreRateLimited(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	l := newRequestLog(&out)
	now := time.Unix(1e9, 0)
	l.now = func() time.Time { return now }
	for range 100 {
		l.done(&record{start: now, status: 401, outcome: "invalid_client"})
		l.limited("refused a connection")
		l.done(&record{start: now, status: 200, outcome: "ok"})
	}
	now = now.Add(3 * time.Second) // room for 3 × logRate more
	for range 10 {
		l.done(&record{start: now, status: 400, outcome: "invalid_request"})
	}
	l.sayDropped()
	l.sayDropped() // nothing new: says nothing
	got := out.String()
	ok, failed := strings.Count(got, "status=200"), strings.Count(got, "status=401")+strings.Count(got, "refused a connection")+strings.Count(got, "status=400")
	if ok != 100 || failed != logBurst+3*logRate {
		t.Errorf("%d answered and %d failure lines, want 100 and %d", ok, failed, logBurst+3*logRate)
	}
	left := 200 + 10 - (logBurst + 3*logRate)
	if n := strings.Count(got, "were left out"); n != 1 || !strings.Contains(got, `"`+strconv.Itoa(left)+" lines about failed requests and connections were left out") {
		t.Errorf("%d counts of lines left out, want 1 saying %d:\n%s", n, left, got)
	}
}
