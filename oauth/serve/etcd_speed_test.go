//go:build !race

package serve_test

import (
	"testing"

	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestSpeedBarServeEtcd is TestSpeedBarServe with the accounts on a
// three-member etcd cluster (in a process of its own, as deployed, idle
// while it runs: the token path reads the service's copy of the store,
// which a watch keeps current). The same bar: 5,000 requests/s, p99
// within 5 ms.
func TestSpeedBarServeEtcd(t *testing.T) {
	url, bodies := benchServiceOn(t, newEtcdFixtureOn(t, etcdElsewhere(t), sandbox.Options{}))
	speedBar(t, " on etcd", url, bodies)
}
