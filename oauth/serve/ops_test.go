package serve_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/accounts/etcdtest"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/serve"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// newEtcdFixture is newFixture on the etcd cluster c (a prefix of the
// test's own, sealed with a key of its own).
func newEtcdFixture(t testing.TB, c *etcdtest.Cluster, opts sandbox.Options) *fixture {
	t.Helper()
	return newEtcdFixtureOn(t, c.Endpoints(), opts)
}

// newEtcdFixtureOn is newEtcdFixture on the cluster whose members answer
// at endpoints.
func newEtcdFixtureOn(t testing.TB, endpoints []string, opts sandbox.Options) *fixture {
	t.Helper()
	f := newFixture(t, opts)
	f.loc = "etcd://" + strings.Join(endpoints, ",") + "/serve-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	f.etcd = accounts.EtcdOptions{KeyFile: etcdtest.KeyFile(t, t.TempDir()), Timeout: 2 * time.Second}
	f.m = f.open()
	return f
}

// metricsOf reads /metrics.
func (f *fixture) metricsOf() string {
	f.t.Helper()
	resp, err := f.client.Get(f.base + serve.MetricsPath)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		f.t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(b)
}

// metric is the value of the sample named (with its labels) in text.
func metric(text, sample string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` ([0-9.e+-]+)$`).FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// health is GET /healthz, with the Host header host.
func (f *fixture) health(host string) reply {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.base+serve.HealthPath, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Host = host
	return f.do(req)
}

// TestHealthAndMetrics: /healthz says the store is usable (to any Host: a
// load balancer checks by the machine's address), and /metrics counts
// requests by status, upstream refreshes with their latency, and the age
// of the service's copy of the store.
func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("00000001", "fresh", 8*time.Hour), f.minted("00000002", "due", time.Second))
	fresh, due := f.add("a", "fresh"), f.add("b", "due")
	f.start(serve.Options{})
	if r := f.health("10.1.2.3:7531"); r.status != http.StatusOK || r.str("status") != "ok" || r.str("store") != f.m.Location() {
		t.Fatalf("/healthz: %d %s", r.status, r.raw)
	}
	for range 3 {
		if r := f.refresh(fresh); r.status != http.StatusOK {
			t.Fatalf("fresh: %d %s", r.status, r.raw)
		}
	}
	if r := f.refresh(due); r.status != http.StatusOK {
		t.Fatalf("due: %d %s", r.status, r.raw)
	}
	f.refresh("keyfob_unknown")
	text := f.metricsOf()
	for sample, want := range map[string]float64{
		`keyfob_serve_requests_total{status="200"}`:       5, // the health check too
		`keyfob_serve_requests_total{status="401"}`:       1,
		`keyfob_upstream_refreshes_total{result="ok"}`:    1,
		`keyfob_upstream_refresh_seconds_count`:           1,
		`keyfob_store_errors_total`:                       0,
		`keyfob_upstream_refreshes_total{result="error"}`: -1, // none yet: no sample
	} {
		if got := metric(text, sample); got != want {
			t.Errorf("%s = %v, want %v", sample, got, want)
		}
	}
	if age := metric(text, "keyfob_cache_age_seconds"); age < 0 || age > 60 {
		t.Errorf("cache age %v", age)
	}
	if f.srv.Stats().Refreshes != 1 {
		t.Errorf("%d refreshes", f.srv.Stats().Refreshes)
	}
}

// TestEtcdNoQuorumServesCachedTokens: with most etcd members down, a
// consumer whose token is still valid gets it from the service's copy; one
// whose token needs a refresh gets 503 with Retry-After and no refresh is
// sent upstream; /healthz says 503. With the members back, the refresh
// happens, once, and /healthz says 200 again.
func TestEtcdNoQuorumServesCachedTokens(t *testing.T) {
	t.Parallel()
	c := etcdtest.Start(t, 3)
	f := newEtcdFixture(t, c, sandbox.Options{})
	f.seed(f.minted("00000001", "fresh", 8*time.Hour), f.minted("00000002", "due", -time.Minute))
	fresh, due := f.add("a", "fresh"), f.add("b", "due")
	f.start(serve.Options{})
	leader := c.Leader()
	down := []int{(leader + 1) % 3, (leader + 2) % 3}
	for _, i := range down {
		c.Kill(i)
	}
	if r := f.refresh(fresh); r.status != http.StatusOK {
		t.Fatalf("a valid cached token without quorum: %d %s", r.status, r.raw)
	}
	r := f.refresh(due)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || !strings.Contains(r.str("error_description"), "store") {
		t.Fatalf("a token to refresh without quorum: %d %v %s", r.status, r.header.Get("Retry-After"), r.raw)
	}
	if n := f.srv.Stats().Refreshes; n != 0 {
		t.Fatalf("%d refreshes upstream without quorum", n)
	}
	if h := f.health(""); h.status != http.StatusServiceUnavailable || h.header.Get("Retry-After") == "" {
		t.Fatalf("/healthz without quorum: %d %s", h.status, h.raw)
	}
	if n := metric(f.metricsOf(), "keyfob_store_errors_total"); n < 2 {
		t.Errorf("store errors counted: %v", n)
	}
	for _, i := range down {
		c.Restart(i)
	}
	c.WaitLeader()
	ok := keyfobtest.Within(30*time.Second, func() bool { return f.refresh(due).status == http.StatusOK })
	if !ok || f.srv.Stats().Refreshes != 1 {
		t.Fatalf("with quorum back: %v, %d refreshes", ok, f.srv.Stats().Refreshes)
	}
	if h := f.health(""); h.status != http.StatusOK {
		t.Fatalf("/healthz with quorum back: %d %s", h.status, h.raw)
	}
}

// TestEtcdConsumersFollowOtherReplicas: a consumer added through another
// replica's store (another machine's Manager) gets tokens from this
// service within a second; removed there, it is refused within a second.
func TestEtcdConsumersFollowOtherReplicas(t *testing.T) {
	t.Parallel()
	c := etcdtest.Start(t, 1)
	f := newEtcdFixture(t, c, sandbox.Options{})
	f.seed(f.minted("00000001", "car", 8*time.Hour))
	f.start(serve.Options{})
	other := f.open()
	ctx := context.Background()
	_, cred, err := other.AddConsumer(ctx, "elsewhere", "car")
	if err != nil {
		t.Fatal(err)
	}
	f.creds = append(f.creds, cred)
	if !keyfobtest.Within(time.Second, func() bool { return f.refresh(cred).status == http.StatusOK }) {
		t.Fatal("a consumer added on another machine was not honoured within a second")
	}
	if _, err := other.RemoveConsumer(ctx, "elsewhere"); err != nil {
		t.Fatal(err)
	}
	if !keyfobtest.Within(time.Second, func() bool { return f.refresh(cred).status == http.StatusUnauthorized }) {
		t.Fatal("a consumer removed on another machine still got tokens after a second")
	}
}
