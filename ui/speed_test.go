//go:build !race

package ui

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// The TUI's bars of SPEC §7, checked rather than printed. The race
// detector inflates time, memory and allocations, so this file is left out
// of -race builds (nothing skips there) and .ci/run runs these tests in a
// step of their own without it. Timings fail when they miss their bar
// threefold (a shared CI machine is noisy); allocation counts and memory
// have no slack.

// timingSlack is how many times its bar a timing may take before it fails.
const timingSlack = 3

// TestSpeedBarView: View with 1,000 accounts within 2 ms.
func TestSpeedBarView(t *testing.T) {
	checkTiming(t, "View with 1,000 accounts", 2*time.Millisecond, BenchmarkView)
}

// TestSpeedBarTick: one countdown tick with 1,000 accounts — its Update,
// its commands and the frame it causes — within 1 ms.
func TestSpeedBarTick(t *testing.T) {
	checkTiming(t, "a tick with its commands and View, 1,000 accounts", time.Millisecond, BenchmarkTick)
}

// checkTiming runs bench and fails when one operation takes more than
// timingSlack times bar.
func checkTiming(t *testing.T, what string, bar time.Duration, bench func(*testing.B)) {
	t.Helper()
	r := testing.Benchmark(bench)
	if r.N == 0 {
		t.Fatalf("%s: the benchmark failed", what)
	}
	per := time.Duration(r.NsPerOp())
	t.Logf("%s: %v per operation, %d allocations (bar %v)", what, per, r.AllocsPerOp(), bar)
	if per > timingSlack*bar {
		t.Errorf("%s takes %v; the bar is %v and this fails above %v", what, per, bar, timingSlack*bar)
	}
}

// TestTickDoesNotAllocatePerAccount: a tick with its commands (the
// auto-refresh scanning every account, the look at the store's stamp)
// allocates exactly as often with 10 accounts as with 1,000.
func TestTickDoesNotAllocatePerAccount(t *testing.T) {
	measure := func(accts []accounts.Account) float64 {
		m := newViewModel(t, accts, 120, 40)
		now := keyfobtest.Now
		m.clock = func() time.Time { return now }
		tickWithCommands(m, now)
		return testing.AllocsPerRun(50, func() {
			now = now.Add(time.Second)
			m.sched.Replan() // the worst case: the auto-refresh scans everything
			_, cmd := m.Update(tickMsg(now))
			runCommands(m, cmd)
		})
	}
	small, large := measure(keyfobtest.Fleet(10)), measure(keyfobtest.Fleet(1000))
	t.Logf("a tick allocates %.0f times with 10 accounts and %.0f with 1,000", small, large)
	if large != small {
		t.Errorf("a tick allocates %.0f times with 1,000 accounts and %.0f with 10", large, small)
	}
}

// TestViewRendersOnlyVisibleRows: a frame allocates as often with 1,000
// accounts as with 5,000 (both fill the screen, and their counts have as
// many digits). A countdown crossing a second between two frames may cost
// one allocation more; rendering every row would cost thousands.
func TestViewRendersOnlyVisibleRows(t *testing.T) {
	measure := func(accts []accounts.Account) float64 {
		m := newViewModel(t, accts, 120, 40)
		_ = m.View()
		return testing.AllocsPerRun(20, func() { _ = m.View() })
	}
	small, large := measure(keyfobtest.Fleet(1000)), measure(keyfobtest.Fleet(5000))
	t.Logf("a frame allocates %.0f times with 1,000 accounts and %.0f with 5,000", small, large)
	if large > small+2 {
		t.Errorf("a frame allocates %.0f times with 5,000 accounts and %.0f with 1,000", large, small)
	}
}

// TestMemory reports the resident memory of the TUI with 1,000 accounts
// (the bar: ≤ 40 MB). It runs the measurement in a fresh process, so the
// figure is the model's and not the test runner's.
func TestMemory(t *testing.T) {
	if os.Getenv("KEYFOB_MEMORY_CHILD") == "1" {
		memoryChild(t)
		return
	}
	if testing.Short() {
		t.Skip("measured in a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemory$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KEYFOB_MEMORY_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child failed: %v\n%s", err, out)
	}
	var rss, heap int64 = -1, -1
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "MEMORY" {
			rss, _ = strconv.ParseInt(f[1], 10, 64)
			heap, _ = strconv.ParseInt(f[2], 10, 64)
		}
	}
	if heap < 0 {
		t.Fatalf("no measurement in the child's output:\n%s", out)
	}
	t.Logf("1,000 accounts: RSS %.1f MB (VmRSS; -1 where /proc is missing), heap in use %.1f MB", float64(rss)/(1<<20), float64(heap)/(1<<20))
	const limit = 40 << 20
	if rss > limit || heap > limit {
		t.Errorf("the TUI with 1,000 accounts uses RSS %d bytes, heap %d bytes; the bar is 40 MB", rss, heap)
	}
}

func memoryChild(t *testing.T) {
	m := newViewModel(t, keyfobtest.Fleet(1000), 120, 40)
	now := keyfobtest.Now
	m.clock = func() time.Time { return now }
	for i := range 120 {
		now = now.Add(time.Second)
		m.Update(tickMsg(now))
		if i%10 == 0 {
			press(m, "pgdown")
		}
		_ = m.View()
	}
	press(m, "enter")
	_ = m.View()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("MEMORY %d %d\n", vmRSS(), ms.HeapInuse)
}

// vmRSS reads the resident set size from /proc, or -1.
func vmRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return -1
}
