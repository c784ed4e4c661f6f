package present

import (
	"strconv"
	"time"
)

// AppendCountdown appends d as a ticking countdown: "7h 41m 09s", "41m 09s",
// "9s", and for long-lived tokens "44d 23h 59m". The leading unit is not
// padded, so the text stays short; the others are, so it does not jitter
// while it ticks. A negative d counts as zero.
func AppendCountdown(b []byte, d time.Duration) []byte {
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

// Countdown is AppendCountdown as a string.
func Countdown(d time.Duration) string {
	var buf [24]byte
	return string(AppendCountdown(buf[:0], d))
}

func append2(b []byte, n int64) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, n, 10)
}

// Approx says roughly how long d is: "less than a minute", "12 minutes",
// "4h 48m", "12 days", "3 months". The sign of d is ignored.
func Approx(d time.Duration) string {
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

// Relative says when t is from now: "in 4h 48m", "12 days ago", "just now".
func Relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d > -time.Minute && d < time.Minute:
		return "just now"
	case d > 0:
		return "in " + Approx(d)
	}
	return Approx(d) + " ago"
}

// Delay writes a configured delay the way settings and notices say it:
// "30 s", "2 min", "1m30s".
func Delay(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return d.Round(time.Second).String()
}

// Stamp formats an instant in the viewer's time zone.
func Stamp(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

// When is an instant with how far it is from now: "2026-12-02 10:00:00 CET
// · in 4h 48m".
func When(t, now time.Time, loc *time.Location) string {
	return Stamp(t, loc) + " · " + Relative(t, now)
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
