package serve_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/serve"
)

// The load generator of the token service's bar: 5,000 requests/s of
// fresh tokens with p99 under 5 ms, on 2 cores, client included.
//
// BenchmarkTokenRate offers b.N requests at a fixed rate (5,000/s, or
// $KEYFOB_SERVE_RATE) from benchClients keep-alive connections, and
// reports the rate achieved (a service too slow for the rate lowers it)
// with the latencies of the requests. BenchmarkTokenSaturation runs the
// clients as fast as they go, for the most the machine can serve. Both
// report req/s and the p50 and p99 latencies as custom metrics; the
// service logs every request to a file as it would to stderr.

// benchClients is how many connections the load generator uses, each
// with its own consumer credential.
const benchClients = 16

// benchService starts a service over 4 fresh accounts and returns its
// token URL and one request body per client.
func benchService(b testing.TB) (string, [][]byte) {
	return benchServiceOn(b, newFixture(b, sandbox.Options{}))
}

// benchServiceOn is benchService on the store of f.
func benchServiceOn(b testing.TB, f *fixture) (string, [][]byte) {
	// As keyfob serve runs.
	old, oldLimit := debug.SetGCPercent(serve.GCPercent), debug.SetMemoryLimit(serve.MemoryLimit)
	b.Cleanup(func() { debug.SetGCPercent(old); debug.SetMemoryLimit(oldLimit) })
	for i := range 4 {
		f.seed(f.minted(fmt.Sprintf("0000000%d", i+1), fmt.Sprintf("car%d", i+1), 8*time.Hour))
	}
	bodies := make([][]byte, benchClients)
	for i := range bodies {
		cred := f.add(fmt.Sprintf("consumer%02d", i), fmt.Sprintf("car%d", i%4+1))
		bodies[i] = []byte("grant_type=refresh_token&client_id=ownerapi&refresh_token=" + cred)
	}
	logFile, err := os.Create(filepath.Join(b.TempDir(), "serve.log"))
	must(b, err == nil, "%v", err)
	b.Cleanup(func() { logFile.Close() })
	f.start(serve.Options{Log: logFile})
	b.Cleanup(func() { must(b, f.srv.Stats().Refreshes == 0, "the benchmark refreshed") })
	return f.base + serve.TokenPath, bodies
}

// benchClient keeps up to conns connections open between requests.
func benchClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxIdleConns: conns}}
}

// post sends one token request and reports whether it got a token.
func post(tb testing.TB, c *http.Client, url string, body []byte) bool {
	resp, err := c.Post(url, "application/x-www-form-urlencoded", bytes.NewReader(body))
	if err != nil {
		tb.Error(err)
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Errorf("status %d", resp.StatusCode)
		return false
	}
	return true
}

func report(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func BenchmarkTokenRate(b *testing.B) {
	rate := 5000
	if r, err := strconv.Atoi(os.Getenv("KEYFOB_SERVE_RATE")); err == nil && r > 0 {
		rate = r
	}
	url, bodies := benchService(b)
	b.ResetTimer()
	lat, elapsed := offer(b, benchClient(benchClients), url, bodies, rate, b.N)
	b.StopTimer()
	report(b, lat, elapsed)
}

// offer sends n requests to url at rate a second from benchClients
// clients, client w sending bodies[w], and returns the latencies and the
// time it took. Client w sends its requests at start + (k·benchClients +
// w)·interval: together, rate requests a second, evenly spread. A client
// that falls behind sends at once, so the rate achieved shows a slow
// service.
func offer(tb testing.TB, client *http.Client, url string, bodies [][]byte, rate, n int) ([]time.Duration, time.Duration) {
	interval := time.Second / time.Duration(rate)
	lat := make([][]time.Duration, benchClients)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k*benchClients+w < n; k++ {
				time.Sleep(time.Until(start.Add(time.Duration(k*benchClients+w) * interval)))
				t0 := time.Now()
				if !post(tb, client, url, bodies[w]) {
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	return slices.Concat(lat...), time.Since(start)
}

func BenchmarkTokenSaturation(b *testing.B) {
	url, bodies := benchService(b)
	client := benchClient(benchClients)
	lat := make([][]time.Duration, benchClients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range benchClients {
		n := b.N / benchClients
		if w < b.N%benchClients {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				t0 := time.Now()
				if !post(b, client, url, bodies[w]) {
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	report(b, slices.Concat(lat...), elapsed)
}
