// Package loopback hands tests loopback ports that nothing else in the
// machine will take meanwhile. Only tests import it.
package loopback

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// ports are handed out below the range the kernel picks ephemeral ports
// from, one after another from a random start, each once per test binary.
var ports struct {
	mu              sync.Mutex
	low, high, next int // [low, high)
}

// Port returns a loopback port that is free now, for a test that must name
// a port before anything listens on it (a redirect URI registered in
// advance, the URLs of an etcd member). A port the kernel picked for port
// 0 would not do: once that listener closes, the kernel may give the port
// to any connection a parallel test opens. These ports lie below the
// kernel's ephemeral range and no test binary hands one out twice; two
// binaries running at once start at random points of the range.
func Port(t testing.TB) int {
	t.Helper()
	ports.mu.Lock()
	defer ports.mu.Unlock()
	if ports.high == 0 {
		ports.high = ephemeralLow()
		ports.low = max(1024, ports.high-16384)
		ports.next = ports.low + rand.IntN(ports.high-ports.low)
	}
	for range ports.high - ports.low {
		p := ports.next
		if ports.next++; ports.next == ports.high {
			ports.next = ports.low
		}
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			ln.Close()
			return p
		}
	}
	t.Fatalf("no loopback port free in %d-%d", ports.low, ports.high-1)
	return 0
}

// ephemeralLow is the first port of the kernel's ephemeral range.
func ephemeralLow() int {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 2048 {
				return n
			}
		}
	}
	if runtime.GOOS == "linux" {
		return 32768
	}
	return 49152 // the IANA dynamic range, as macOS and Windows use
}
