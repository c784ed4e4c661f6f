package serve

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keyfob/keyfob/accounts"
)

// Paths for operators: a load balancer's health check and Prometheus.
// Neither needs a credential nor tells anything secret, and both answer
// any Host (a health check comes by the machine's address).
const (
	HealthPath  = "/healthz"
	MetricsPath = "/metrics"
)

// healthTimeout bounds the store check of one /healthz.
const healthTimeout = 3 * time.Second

// health is the answer of /healthz.
type health struct {
	Status string `json:"status"` // "ok" or "unavailable"
	Store  string `json:"store"`
	// CacheAge is how long ago the service's copy of the accounts was
	// last known to be current, in seconds.
	CacheAge float64 `json:"cache_age_seconds"`
	Error    string  `json:"error,omitempty"`
}

// serveHealth answers 200 when the store can be used now (reachable, with
// a quorum for etcd, and this service's key is its key), else 503 with
// Retry-After and why: a load balancer then sends consumers to a replica
// that can refresh their tokens.
func (s *Server) serveHealth(w *recorder, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.fail(http.StatusMethodNotAllowed, "invalid_request", HealthPath+" takes GET")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	h := health{Status: "ok", Store: s.m.Location(), CacheAge: s.cacheAge()}
	if err := s.m.Check(ctx); err != nil {
		s.metrics.storeErrors.Inc()
		h.Status, h.Error = "unavailable", err.Error()
		w.rec.outcome, w.rec.err = "store_unavailable", err.Error()
		w.Header().Set("Retry-After", "5")
		w.send(http.StatusServiceUnavailable, h)
		return
	}
	w.rec.outcome = "ok"
	w.send(http.StatusOK, h)
}

func (s *Server) cacheAge() float64 {
	return max(0, s.now().Sub(s.w.CurrentAt()).Seconds())
}

// metrics are the service's Prometheus metrics, in a registry of its own.
type metrics struct {
	reg         *prometheus.Registry
	handler     http.Handler
	requests    *prometheus.CounterVec
	byStatus    sync.Map // status code → prometheus.Counter, made once each
	refreshes   *prometheus.CounterVec
	latency     prometheus.Histogram
	storeErrors prometheus.Counter
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keyfob_serve_requests_total",
		Help: "Requests answered, by HTTP status."}, []string{"status"})
	m.refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keyfob_upstream_refreshes_total",
		Help: "Refresh requests this service sent upstream (to Tesla), by result."}, []string{"result"})
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "keyfob_upstream_refresh_seconds",
		Help:    "Time from a token request that needed a refresh to its refreshed token: the lock, the upstream request and the store write.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}})
	m.storeErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "keyfob_store_errors_total",
		Help: "Requests and health checks that found the store unreachable or unusable."})
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "keyfob_cache_age_seconds",
		Help: "How long ago this service's copy of the accounts and consumers was last known to be current."}, s.cacheAge)
	m.reg.MustRegister(m.requests, m.refreshes, m.latency, m.storeErrors, age,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// request counts an answer.
func (m *metrics) request(status int) {
	c, ok := m.byStatus.Load(status)
	if !ok {
		c, _ = m.byStatus.LoadOrStore(status, m.requests.WithLabelValues(strconv.Itoa(status)))
	}
	c.(prometheus.Counter).Inc()
}

// refreshed counts what one call of Manager.Token that may refresh did.
func (m *metrics) refreshed(r accounts.Refreshed, err error, took time.Duration) {
	switch {
	case isStoreError(err):
		m.storeErrors.Inc()
	case !r.Requested:
	case err != nil || r.Stale != nil:
		m.refreshes.WithLabelValues("error").Inc()
	default:
		m.refreshes.WithLabelValues("ok").Inc()
		m.latency.Observe(took.Seconds())
	}
}

// isStoreError reports an error of the store rather than of upstream.
func isStoreError(err error) bool {
	return errors.As(err, new(*accounts.StoreUnavailableError)) || errors.As(err, new(*accounts.StoreKeyError)) ||
		errors.As(err, new(*accounts.NotRefreshedError))
}

// serveMetrics answers in Prometheus' text format.
func (s *Server) serveMetrics(w *recorder, r *http.Request) {
	w.Header().Del("Content-Type")
	w.rec.outcome, w.rec.status = "ok", http.StatusOK
	s.metrics.handler.ServeHTTP(w.ResponseWriter, r)
}
