package accounts

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkMigrate50000 takes over a version 2 store of 50,000 accounts
// (bar: under 10 s). KEYFOB_BENCH_ACCOUNTS is not read: the bar is for this
// size.
func BenchmarkMigrate(b *testing.B) {
	for _, n := range []int{300, 10000, 50000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for i := range b.N {
				b.StopTimer()
				dir := filepath.Join(b.TempDir(), strconv.Itoa(i))
				oldStore(b, dir, n)
				b.StartTimer()
				m, _ := Open("", Options{Dir: dir})
				accts, err := m.List(context.Background())
				if err != nil || len(accts) != n {
					b.Fatalf("%v, %d accounts", err, len(accts))
				}
			}
		})
	}
}
