//go:build !race

package cli

import (
	"testing"
	"time"
)

// The whole-process bars of SPEC §7, checked rather than printed. The race
// detector slows everything down, so this file is left out of -race builds
// (nothing skips there) and .ci/run runs these tests in a step of their
// own without it.

// TestSpeedBarToken: `keyfob token` on a fresh token with 1,000 accounts
// within 1.5× of a minimal program that reads and decodes the same store,
// and within 1.5× of the binary's own start (`keyfob version`): the
// token's own work (one record, through the name index) must stay small
// next to what every process pays. All run in alternation on the same
// machine, so load hits all and the ratios need less slack than a wall
// time: each fails above 2× (reading every record, for one, costs more).
func TestSpeedBarToken(t *testing.T) {
	const bar, limit = 1.5, 2.0
	k, m, st := tokenVsMinimal(t, 11)
	ratio, over := float64(k)/float64(m), float64(k)/float64(st)
	t.Logf("keyfob token %v, the minimal program %v: %.2f× (bar %.1f×); keyfob version %v: %.2f×", k, m, ratio, bar, st, over)
	if ratio > limit {
		t.Errorf("keyfob token takes %.2f× the minimal program; the bar is %.1f× and this fails above %.1f×", ratio, bar, limit)
	}
	if over > limit {
		t.Errorf("keyfob token takes %.2f× the binary's own start; the bar is %.1f× and this fails above %.1f×", over, bar, limit)
	}
}

// TestSpeedBarRefreshAll: `refresh --all` of 200 accounts at 50 ms of
// server latency, concurrency 8, within 1.3× of the ideal 1.25 s. A wall
// time on a shared machine, so it fails only above three times its bar.
func TestSpeedBarRefreshAll(t *testing.T) {
	const bar, slack = 1.3, 3
	wall := refreshAllWall(t)
	x := float64(wall) / float64(refreshAllIdeal)
	t.Logf("refresh --all of %d accounts: %v, %.2f× the ideal %v (bar %.1f×)", refreshAllAccounts, wall.Round(time.Millisecond), x, refreshAllIdeal, bar)
	if x > bar*slack {
		t.Errorf("refresh --all takes %.2f× the ideal; the bar is %.1f× and this fails above %.1f×", x, bar, bar*slack)
	}
}
