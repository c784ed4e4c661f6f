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

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
)

// thousand is a store of 1,000 accounts with realistic tokens, spread over
// kinds and expiries.
func thousand() []accounts.Account {
	kinds := []accounts.Kind{accounts.KindFleet, accounts.KindOwner, accounts.KindPartner, accounts.KindLegacy}
	regions := []string{"na", "eu", "cn"}
	out := make([]accounts.Account, 1000)
	for i := range out {
		exp := testNow.Add(time.Duration(i%480)*time.Minute + 2*time.Hour)
		a := fixtureAccount(fmt.Sprintf("b%07d", i), fmt.Sprintf("vehicle-%04d", i), fmt.Sprintf("owner%04d@example.com", i),
			kinds[i%len(kinds)], regions[i%len(regions)], exp, fleetScopes)
		out[i] = a
	}
	return out
}

// benchModel is a loaded model of 1,000 accounts at 120×40 whose
// auto-refresh has planned its next run (nothing is due for an hour).
func benchModel(b testing.TB) *Model {
	m := newViewModel(b, thousand(), 120, 40)
	m.Update(tickMsg(testNow))
	if m.refresh.busy != 0 {
		b.Fatalf("%d refreshes started; the benchmark wants an idle screen", m.refresh.busy)
	}
	return m
}

// BenchmarkView renders the list of 1,000 accounts, one second later each
// time, as after every tick (the bar: ≤ 2 ms).
func BenchmarkView(b *testing.B) {
	m := benchModel(b)
	now := testNow
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		m.c.Now = now
		_ = m.View()
	}
}

// BenchmarkViewDetail renders the detail page of one account.
func BenchmarkViewDetail(b *testing.B) {
	m := benchModel(b)
	press(m, "enter")
	b.ReportAllocs()
	for b.Loop() {
		m.detail.Refresh(m.current())
		_ = m.View()
	}
}

// BenchmarkTick is one countdown tick with 1,000 accounts: the Update of
// the tick (the bar: ≤ 1 ms, nothing allocated per account).
func BenchmarkTick(b *testing.B) {
	m := benchModel(b)
	m.clock = func() time.Time { return testNow }
	msg := tea.Msg(tickMsg(testNow))
	b.ReportAllocs()
	for b.Loop() {
		m.Update(msg)
	}
}

// BenchmarkTickAndView is a tick and the frame it causes.
func BenchmarkTickAndView(b *testing.B) {
	m := benchModel(b)
	now := testNow
	m.clock = func() time.Time { return now }
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		m.Update(tickMsg(now))
		_ = m.View()
	}
}

// BenchmarkTickAutoRefreshScan is a tick on which the auto-refresh looks
// at every account and finds none due.
func BenchmarkTickAutoRefreshScan(b *testing.B) {
	m := benchModel(b)
	m.clock = func() time.Time { return testNow }
	msg := tea.Msg(tickMsg(testNow))
	b.ReportAllocs()
	for b.Loop() {
		m.refresh.nextDue = time.Time{}
		m.Update(msg)
	}
}

// The tick allocates nothing per account: the same number of allocations
// with 10 and with 1,000 accounts.
func TestTickDoesNotAllocatePerAccount(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under the race detector")
	}
	measure := func(accts []accounts.Account) float64 {
		m := newViewModel(t, accts, 120, 40)
		m.clock = func() time.Time { return testNow }
		m.Update(tickMsg(testNow))
		return testing.AllocsPerRun(50, func() {
			m.refresh.nextDue = time.Time{} // the worst case: the auto-refresh scans everything
			m.Update(tickMsg(testNow))
		})
	}
	small, large := measure(thousand()[:10]), measure(thousand())
	if large > small {
		t.Errorf("a tick allocates %.0f times with 1,000 accounts and %.0f with 10", large, small)
	}
}

// The view renders only the visible rows: its allocations do not grow with
// the number of accounts.
func TestViewRendersOnlyVisibleRows(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not stable under the race detector")
	}
	measure := func(accts []accounts.Account) float64 {
		m := newViewModel(t, accts, 120, 40)
		_ = m.View()
		return testing.AllocsPerRun(20, func() { _ = m.View() })
	}
	small, large := measure(thousand()[:100]), measure(thousand())
	if large > small*1.1+5 {
		t.Errorf("a frame allocates %.0f times with 1,000 accounts and %.0f with 100", large, small)
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
	if testing.Short() || raceEnabled {
		t.Skip("measured in a child process, without the race detector")
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
	m := newViewModel(t, thousand(), 120, 40)
	now := testNow
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
