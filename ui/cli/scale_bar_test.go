//go:build unix && !race

package cli

import "testing"

// TestSpeedBarScale: what one account costs must not grow with the number
// of accounts. `keyfob token NAME` and `keyfob refresh NAME` with 50,000
// accounts within 1.5× of the same command with 10, in wall time and in
// peak memory; `keyfob list` with 50,000 within 2× of a minimal program
// that decodes the same records. The commands run in alternation, so load
// hits both sides; each fails only above twice its bar (a `token` that
// read every record, for one, takes about 100×).
func TestSpeedBarScale(t *testing.T) {
	e := newScaleEnv(t)
	t.Logf("taking over the 50,000-account store of keyfob 2: %v", e.migration)
	token, refresh, list := scaleBars(t, e, 5)
	for _, c := range []struct {
		name string
		s    []procStat
		bar  float64
	}{{"token NAME", token, 1.5}, {"refresh NAME", refresh, 1.5}, {"list --json", list, 2}} {
		wall, rss := ratios(c.s)
		t.Logf("%s: %v and %.1f MB with the small side, %v and %.1f MB with 50,000 accounts: %.2f× the time, %.2f× the memory (bar %.1f×)",
			c.name, c.s[0].wall, float64(c.s[0].rss)/(1<<20), c.s[1].wall, float64(c.s[1].rss)/(1<<20), wall, rss, c.bar)
		if wall > 2*c.bar {
			t.Errorf("%s takes %.2f× the time with 50,000 accounts; the bar is %.1f× and this fails above %.1f×", c.name, wall, c.bar, 2*c.bar)
		}
		if c.name != "list --json" && rss > 2*c.bar {
			t.Errorf("%s takes %.2f× the memory with 50,000 accounts; the bar is %.1f× and this fails above %.1f×", c.name, rss, c.bar, 2*c.bar)
		}
	}
}
