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
type requestLog struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

func newRequestLog(w io.Writer) *requestLog {
	if w == nil {
		w = io.Discard
	}
	return &requestLog{w: w, now: time.Now}
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
	for _, secret := range []string{a.RefreshToken, a.AccessToken, a.IDToken, a.ClientSecret} {
		if len(secret) >= 8 {
			text = strings.ReplaceAll(text, secret, "[redacted]")
		}
	}
	return text
}
