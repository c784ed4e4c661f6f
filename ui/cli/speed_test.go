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
// within 1.5× of a minimal program that reads and decodes the same file.
// Both run in alternation on the same machine, so load hits both and the
// ratio needs less slack than a wall time: it fails above 2× (writing the
// store on every call, for one, costs about 2.2×).
func TestSpeedBarToken(t *testing.T) {
	const bar, limit = 1.5, 2.0
	k, m := tokenVsMinimal(t, 11)
	ratio := float64(k) / float64(m)
	t.Logf("keyfob token %v, the minimal program %v: %.2f× (bar %.1f×)", k, m, ratio, bar)
	if ratio > limit {
		t.Errorf("keyfob token takes %.2f× the minimal program; the bar is %.1f× and this fails above %.1f×", ratio, bar, limit)
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
