package ui

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
)

// urgency classifies how soon an access token expires; it picks the colour
// of the countdown.
type urgency int

const (
	urgencyNone     urgency = iota // no expiry known
	urgencyFine                    // more than an hour left
	urgencyWarning                 // less than accounts.ExpiringWithin (an hour)
	urgencyCritical                // less than ten minutes
	urgencyExpired                 // gone
)

// criticalWithin is when the countdown turns critical; it turns a warning
// at accounts.ExpiringWithin, where the status says "expiring".
const criticalWithin = 10 * time.Minute

// urgencyOf classifies a token expiring at exp, seen at now.
func urgencyOf(exp, now time.Time) urgency {
	if exp.IsZero() {
		return urgencyNone
	}
	left := exp.Sub(now)
	switch {
	case left <= 0:
		return urgencyExpired
	case left < criticalWithin:
		return urgencyCritical
	case left < accounts.ExpiringWithin:
		return urgencyWarning
	}
	return urgencyFine
}

// appendCountdown appends d as the list shows it: "7h 41m 09s",
// "41m 09s", "9s", and for long-lived tokens "44d 23h 59m". The leading unit
// is not padded so the text stays short; the others are, so it does not
// jitter while it ticks.
func appendCountdown(b []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	days, hours, mins, secs := s/86400, s/3600%24, s/60%60, s%60
	switch {
	case days > 0:
		b = strconv.AppendInt(b, days, 10)
		b = append(b, "d "...)
		b = append2(b, hours)
		b = append(b, "h "...)
		b = append2(b, mins)
		return append(b, 'm')
	case hours > 0:
		b = strconv.AppendInt(b, hours, 10)
		b = append(b, "h "...)
		b = append2(b, mins)
		b = append(b, "m "...)
		b = append2(b, secs)
		return append(b, 's')
	case mins > 0:
		b = strconv.AppendInt(b, mins, 10)
		b = append(b, "m "...)
		b = append2(b, secs)
		return append(b, 's')
	}
	b = strconv.AppendInt(b, secs, 10)
	return append(b, 's')
}

// countdown is appendCountdown as a string.
func countdown(d time.Duration) string {
	var buf [24]byte
	return string(appendCountdown(buf[:0], d))
}

func append2(b []byte, n int64) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, n, 10)
}

// approx says roughly how long d is, for the detail view: "4h 48m",
// "12 days", "3 months".
func approx(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return plural(h, "hour")
		}
		return strconv.Itoa(h) + "h " + strconv.Itoa(m) + "m"
	case d < 60*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day")
	}
	return plural(int(d/(30*24*time.Hour)), "month")
}

// relative says when t is from now: "in 4h 48m", "12 days ago".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d > -time.Minute && d < time.Minute:
		return "just now"
	case d > 0:
		return "in " + approx(d)
	}
	return approx(d) + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// stamp formats an instant in the viewer's time zone.
func stamp(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

// fit truncates s to w cells (with an ellipsis) and pads it with spaces to
// exactly w cells. s must be plain text.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "…")
		sw = ansi.StringWidth(s)
	}
	if sw < w {
		return s + strings.Repeat(" ", w-sw)
	}
	return s
}

// fitRight is fit with the text aligned to the right.
func fitRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-sw) + s
}

// clip truncates s to w cells, with an ellipsis, without padding.
func clip(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// oneLine flattens a possibly multi-line message, for a status cell.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
