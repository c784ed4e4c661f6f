package serve_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/keyfob/keyfob/oauth/sandbox"
)

// BenchmarkTokenRateEtcd is BenchmarkTokenRate with the accounts on a
// three-member etcd cluster in a process of its own: one replica at 5,000
// requests/s (or $KEYFOB_SERVE_RATE), load generator included.
func BenchmarkTokenRateEtcd(b *testing.B) {
	rate := 5000
	if r, err := strconv.Atoi(os.Getenv("KEYFOB_SERVE_RATE")); err == nil && r > 0 {
		rate = r
	}
	url, bodies := benchServiceOn(b, newEtcdFixtureOn(b, etcdElsewhere(b), sandbox.Options{}))
	b.ResetTimer()
	lat, elapsed := offer(b, benchClient(benchClients), url, bodies, rate, b.N)
	b.StopTimer()
	report(b, lat, elapsed)
}
