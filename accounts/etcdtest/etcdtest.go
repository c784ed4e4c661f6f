// Package etcdtest runs real etcd clusters inside a test process, for the
// tests of keyfob's etcd store: members started from
// go.etcd.io/etcd/server/v3/embed on loopback, which a test can kill (the
// leader, say), stop and start again. Only tests import it: the keyfob
// binary never links the etcd server.
package etcdtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/keyfob/keyfob/ui/keyfobtest/loopback"
)

// Cluster is a running etcd cluster of a few members on loopback.
type Cluster struct {
	t       testing.TB
	Members []*Member
}

// Member is one etcd server of a Cluster.
type Member struct {
	Name string
	// ClientAddr is where clients reach the member (host:port): a proxy
	// in front of its own port, so that a kill cuts every connection at
	// once, as a crash of its process would.
	ClientAddr string
	cfg        *embed.Config
	proxy      *proxy

	mu     sync.Mutex
	e      *embed.Etcd   // nil while stopped
	closed chan struct{} // closed when the last stop let go of the ports
}

// Start runs a cluster of n members and stops it when the test ends. The
// members elect a leader within a second or two of one going away.
func Start(t testing.TB, n int) *Cluster { return StartWith(t, n, Options{}) }

// Options change a cluster's defaults.
type Options struct {
	// Election is how long a follower waits for its leader before it
	// calls an election (1 s when 0). A test that starves the members of
	// CPU for long (many processes beside them) and kills no leader gives
	// them more, so that a late heartbeat does not change the leader.
	Election time.Duration
}

// StartWith is Start with options.
func StartWith(t testing.TB, n int, o Options) *Cluster {
	t.Helper()
	tick, election := 100, 1000
	if o.Election > 0 {
		election = int(o.Election / time.Millisecond)
		tick = max(election/10, 100)
	}
	c := &Cluster{t: t}
	ports := freePorts(t, 3*n)
	var initial []string
	for i := range n {
		m := &Member{Name: fmt.Sprintf("m%d", i), ClientAddr: fmt.Sprintf("127.0.0.1:%d", ports[3*i+2])}
		own := fmt.Sprintf("127.0.0.1:%d", ports[3*i])
		m.proxy = &proxy{addr: m.ClientAddr, to: own}
		peer := fmt.Sprintf("http://127.0.0.1:%d", ports[3*i+1])
		initial = append(initial, m.Name+"="+peer)
		cfg := embed.NewConfig()
		cfg.Name = m.Name
		cfg.Dir = filepath.Join(t.TempDir(), m.Name)
		cu, pu := mustURL(t, "http://"+own), mustURL(t, peer)
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
		cfg.InitialClusterToken = "keyfob-test"
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfg.TickMs, cfg.ElectionMs = uint(tick), uint(election)
		cfg.UnsafeNoFsync = true // the data dies with the test
		m.cfg = cfg
		c.Members = append(c.Members, m)
	}
	for _, m := range c.Members {
		m.cfg.InitialCluster = strings.Join(initial, ",")
	}
	t.Cleanup(c.Close)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, m := range c.Members {
		wg.Go(func() { errs[i] = m.start() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("etcd: %v", err)
		}
	}
	c.WaitLeader()
	return c
}

func mustURL(t testing.TB, s string) url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return *u
}

// freePorts finds n free loopback ports, which no other connection
// takes before the members listen on them (see loopback.Port).
func freePorts(t testing.TB, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = loopback.Port(t)
	}
	return out
}

func (m *Member) start() error {
	if m.closed != nil {
		<-m.closed
	}
	e, err := embed.StartEtcd(m.cfg)
	if err != nil {
		return fmt.Errorf("member %s: %w", m.Name, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return fmt.Errorf("member %s: %w", m.Name, err)
	case <-time.After(60 * time.Second):
		e.Close()
		return fmt.Errorf("member %s did not get ready within a minute", m.Name)
	}
	if err := m.proxy.open(); err != nil {
		e.Close()
		return fmt.Errorf("member %s: %w", m.Name, err)
	}
	m.mu.Lock()
	m.e = e
	m.mu.Unlock()
	return nil
}

// Running reports whether the member runs.
func (m *Member) Running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.e != nil
}

// Close stops every member.
func (c *Cluster) Close() {
	for _, m := range c.Members {
		m.stop(true)
	}
	for _, m := range c.Members {
		if m.closed != nil {
			<-m.closed
		}
	}
}

// stop stops the member: hard, at once as a crash would (its listeners
// answer nothing but errors, and close in the background: a clean close
// waits for the streams of clients to end); else cleanly.
func (m *Member) stop(hard bool) {
	m.mu.Lock()
	e := m.e
	m.e = nil
	m.mu.Unlock()
	if e == nil {
		return
	}
	m.proxy.close()
	closed := make(chan struct{})
	m.closed = closed
	if !hard {
		e.Close()
		close(closed)
		return
	}
	e.Server.HardStop()
	go func() {
		e.Close()
		close(closed)
	}()
}

// Kill stops member i at once, as a crash would: no leadership handed over.
func (c *Cluster) Kill(i int) { c.Members[i].stop(true) }

// Stop stops member i cleanly.
func (c *Cluster) Stop(i int) { c.Members[i].stop(false) }

// Restart starts member i again on its data.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	m := c.Members[i]
	m.cfg.ClusterState = embed.ClusterStateFlagExisting
	if err := m.start(); err != nil {
		c.t.Fatalf("etcd: %v", err)
	}
}

// Leader returns the index of the member that leads now, or -1.
func (c *Cluster) Leader() int {
	for i, m := range c.Members {
		m.mu.Lock()
		e := m.e
		m.mu.Unlock()
		if e != nil && e.Server.Leader() == e.Server.MemberID() {
			return i
		}
	}
	return -1
}

// WaitLeader waits until a running member leads, and returns it.
func (c *Cluster) WaitLeader() int {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if l := c.Leader(); l >= 0 {
			return l
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatal("etcd: no leader within 30 s")
	return -1
}

// Endpoints are the members' client addresses, host:port.
func (c *Cluster) Endpoints() []string {
	out := make([]string, len(c.Members))
	for i, m := range c.Members {
		out[i] = m.ClientAddr
	}
	return out
}

// Location is keyfob's store location for prefix on every member.
func (c *Cluster) Location(prefix string) string {
	return "etcd://" + strings.Join(c.Endpoints(), ",") + "/" + prefix
}

// Client is a plain etcd client of the cluster, closed when the test ends:
// what a test uses to read or write raw values.
func (c *Cluster) Client() *clientv3.Client {
	c.t.Helper()
	eps := make([]string, len(c.Members))
	for i, m := range c.Members {
		eps[i] = "http://" + m.ClientAddr
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cli.Close() })
	return cli
}

// Dump returns every key under prefix with its raw value.
func (c *Cluster) Dump(prefix string) map[string]string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Client().Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		c.t.Fatal(err)
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		out[string(kv.Key)] = string(kv.Value)
	}
	return out
}

// KeyFile writes a new store key (32 random bytes in base64, as
// `openssl rand -base64 32` does) to a 0600 file in dir and returns its
// path.
func KeyFile(t testing.TB, dir string) string {
	t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	p := filepath.Join(dir, fmt.Sprintf("store-%x.key", b[:4]))
	if err := os.WriteFile(p, []byte(base64.StdEncoding.EncodeToString(b)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// proxy forwards the connections of clients to a member, and cuts them
// all when it closes.
type proxy struct {
	addr, to string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

func (p *proxy) open() error {
	var ln net.Listener
	var err error
	for range 50 { // the port may be in TIME_WAIT for a moment after a close
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln, p.conns = ln, map[net.Conn]bool{}
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
	return nil
}

func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *proxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.to)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c) || !p.track(up) {
		c.Close()
		up.Close()
		return
	}
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// close stops accepting and cuts every connection (with a reset, as the
// kernel does for a killed process).
func (p *proxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
	p.conns = nil
}
