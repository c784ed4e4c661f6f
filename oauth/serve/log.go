package serve

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keyfob/keyfob/accounts"
)

// requestLog writes one line per request: when, the consumer and account
// (names from the store, never a credential), status, outcome, latency
// and the client's address. A token or credential never reaches it: the
// route is logged as a pattern, never the raw path or query, and error
// text has the account's secrets cut out.
//
// Lines about failures — failed requests, connections refused or closed
// to make room, the HTTP server's own complaints — are rate-limited, since
// anyone who can connect can cause them: logBurst at once, then logRate a
// second; the number left out is logged by the maintenance loop, every
// droppedEvery.
type requestLog struct {
	mu      sync.Mutex
	w       io.Writer
	now     func() time.Time
	budget  float64   // failure lines that may be written now
	refill  time.Time // when budget was last topped up
	dropped int       // failure lines left out since the last said so
}

// Rate of the failure lines.
const (
	logBurst = 20
	logRate  = 2 // a second
)

func newRequestLog(w io.Writer) *requestLog {
	if w == nil {
		w = io.Discard
	}
	return &requestLog{w: w, now: time.Now, budget: logBurst}
}

// record is what one request's log line says.
type record struct {
	start    time.Time
	route    string
	remote   string
	consumer string
	account  string
	status   int
	outcome  string
	err      string
}

func (l *requestLog) begin(r *http.Request) *record {
	remote := r.RemoteAddr
	if remote == "" || remote == "@" {
		remote = "unix"
	}
	return &record{start: l.now(), remote: remote, consumer: "-", account: "-"}
}

func (l *requestLog) done(rec *record) {
	end := l.now()
	if rec.status >= 400 && !l.allow(end) {
		return
	}
	var b strings.Builder
	b.Grow(160)
	b.WriteString(end.UTC().Format("2006-01-02T15:04:05.000Z"))
	b.WriteString(" consumer=")
	b.WriteString(logValue(rec.consumer))
	b.WriteString(" account=")
	b.WriteString(logValue(rec.account))
	b.WriteString(" status=")
	b.WriteString(strconv.Itoa(rec.status))
	b.WriteString(" outcome=")
	b.WriteString(logValue(rec.outcome))
	b.WriteString(" latency=")
	b.WriteString(end.Sub(rec.start).Round(time.Microsecond).String())
	b.WriteString(" remote=")
	b.WriteString(logValue(rec.remote))
	b.WriteString(" route=")
	b.WriteString(logValue(rec.route))
	if rec.err != "" {
		b.WriteString(" error=")
		b.WriteString(strconv.Quote(rec.err))
	}
	b.WriteByte('\n')
	l.write(b.String())
}

// note logs a line about the service itself.
func (l *requestLog) note(format string, args ...any) {
	l.write(l.now().UTC().Format("2006-01-02T15:04:05.000Z") + " keyfob serve: " +
		strconv.Quote(fmt.Sprintf(format, args...)) + "\n")
}

// limited is note for a failure that anyone who can connect may cause:
// rate-limited.
func (l *requestLog) limited(format string, args ...any) {
	if l.allow(l.now()) {
		l.note(format, args...)
	}
}

// allow takes one failure line from the budget, first saying how many
// were left out when some were; false means leave this one out.
func (l *requestLog) allow(now time.Time) bool {
	l.mu.Lock()
	l.budget = min(logBurst, l.budget+now.Sub(l.refill).Seconds()*logRate)
	l.refill = now
	if l.budget < 1 {
		l.dropped++
		l.mu.Unlock()
		return false
	}
	l.budget--
	l.mu.Unlock()
	return true
}

// sayDropped logs how many failure lines were left out since it last did.
func (l *requestLog) sayDropped() {
	l.mu.Lock()
	n := l.dropped
	l.dropped = 0
	l.mu.Unlock()
	if n > 0 {
		l.note("%d lines about failed requests and connections were left out (at most %d a second are logged)", n, logRate)
	}
}

func (l *requestLog) write(line string) {
	l.mu.Lock()
	_, _ = io.WriteString(l.w, line)
	l.mu.Unlock()
}

// logValue writes s bare when it is a plain word, else quoted with Go's
// escapes, so that a name with spaces or control characters can neither
// forge a field nor reach a terminal raw.
func logValue(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-:@/[]{}", r)) {
			return strconv.Quote(s)
		}
	}
	return s
}

// redact cuts the account's secrets out of text meant for the log.
func redact(text string, a accounts.Account) string {
	for _, secret := range []string{a.RefreshToken, a.AccessToken, a.IDToken, a.ClientSecret, a.AuthCode} {
		if len(secret) >= 8 {
			text = strings.ReplaceAll(text, secret, "[redacted]")
		}
	}
	return text
}
