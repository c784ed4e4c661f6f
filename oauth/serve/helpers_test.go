package serve_test

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/serve"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// Every test talks to a real keyfob serve on loopback, over a store of
// accounts minted by the sandbox for a confidential app (a client secret
// in every account). The fixture remembers every refresh token the
// accounts ever had, the client secret and every credential it handed
// out, and, when the test ends, fails it if one of them is in any response
// body or log line the test saw; and if an access token is in a log line.

// fixtureClientID is the sandbox app of the fixture's accounts, a
// confidential one: its secret is the fixture's clientSecret.
const fixtureClientID = "serve-test-app"

// recordingAuthority is the OAuth engine, noting every refresh token (seen)
// and access token (access) that goes in or comes out.
type recordingAuthority struct {
	inner *oauth.Engine
	// fail, when set, answers refreshes in the engine's place.
	fail func(a accounts.Account) error
	// started, when set, is told of each refresh as it starts.
	started chan<- struct{}
	mu      sync.Mutex
	seen    []string
	access  []string
}

func (r *recordingAuthority) note(tokens ...string) {
	r.mu.Lock()
	r.seen = append(r.seen, tokens...)
	r.mu.Unlock()
}

func (r *recordingAuthority) noteAccess(tokens ...string) {
	r.mu.Lock()
	r.access = append(r.access, tokens...)
	r.mu.Unlock()
}

func (r *recordingAuthority) Refresh(ctx context.Context, a accounts.Account) (accounts.Grant, error) {
	if r.started != nil {
		r.started <- struct{}{}
	}
	if r.fail != nil {
		return accounts.Grant{}, r.fail(a)
	}
	g, err := r.inner.Refresh(ctx, a)
	r.note(a.RefreshToken, g.RefreshToken)
	r.noteAccess(a.AccessToken, g.AccessToken)
	return g, err
}

func (r *recordingAuthority) Revoke(ctx context.Context, a accounts.Account) (accounts.Revocation, error) {
	return r.inner.Revoke(ctx, a)
}

type fixture struct {
	t      testing.TB
	srv    *sandbox.Server
	dir    string
	auth   *recordingAuthority
	m      *accounts.Manager
	svc    *serve.Server
	base   string
	log    keyfobtest.Buffer
	bodies keyfobtest.Buffer
	creds  []string
	// clientSecret is the secret of fixtureClientID, in every account.
	clientSecret string
	client       *http.Client
	stop         func() error // stops the service and returns Serve's error
	// ahead is how far the clock of the fixture's Managers and service is
	// ahead of the real one (see advance).
	ahead atomic.Int64
	// loc and etcd are the store's location and etcd options ("": the
	// directory dir).
	loc  string
	etcd accounts.EtcdOptions
	// beforeServe, when set, is given the service before it serves.
	beforeServe func(*serve.Server)
}

// now is the clock of the fixture's Managers and service.
func (f *fixture) now() time.Time { return time.Now().Add(time.Duration(f.ahead.Load())) }

// advance moves the fixture's clock on by d (the sandbox keeps real
// time): a back-off ends without the test waiting it out.
func (f *fixture) advance(d time.Duration) { f.ahead.Add(int64(d)) }

func newFixture(t testing.TB, opts sandbox.Options) *fixture {
	t.Helper()
	secret := "app-secret-" + strings.TrimPrefix(accounts.NewCredential(), accounts.CredentialPrefix)
	opts.Secrets = maps.Clone(opts.Secrets)
	if opts.Secrets == nil {
		opts.Secrets = map[string]string{}
	}
	opts.Secrets[fixtureClientID] = secret
	f := &fixture{t: t, srv: sandbox.NewTest(t, opts), dir: filepath.Join(t.TempDir(), "keyfob"), clientSecret: secret,
		auth: &recordingAuthority{inner: &oauth.Engine{}}, client: &http.Client{Timeout: time.Minute}}
	f.m = f.open()
	t.Cleanup(f.checkNoSecretLeft)
	return f
}

// minted is an account logged in at the sandbox, its token living ttl.
func (f *fixture) minted(id, name string, ttl time.Duration) accounts.Account {
	ts := f.srv.Mint(sandbox.MintRequest{ClientID: fixtureClientID, AccessTTL: ttl,
		Scopes: []string{"openid", "offline_access", "vehicle_device_data"}})
	f.auth.note(ts.RefreshToken)
	f.auth.noteAccess(ts.AccessToken)
	obtained := ts.Expiry.Add(-8 * time.Hour)
	return accounts.Account{
		ID: id, Name: name, Email: name + "@example.com", Kind: accounts.KindFleet, Region: "na",
		ClientID: fixtureClientID, ClientSecret: f.clientSecret, TokenType: "Bearer",
		Endpoints:   accounts.Endpoints{TokenURL: f.srv.Issuer() + "/token"},
		AccessToken: ts.AccessToken, RefreshToken: ts.RefreshToken, Expiry: ts.Expiry,
		GrantedScopes: ts.Scopes, AccessObtainedAt: obtained, RefreshObtainedAt: obtained, State: accounts.StateActive,
	}
}

// open is another Manager of the fixture's store, as another keyfob
// process has.
func (f *fixture) open() *accounts.Manager {
	f.t.Helper()
	m, err := accounts.Open(f.loc, accounts.Options{Dir: f.dir, Auth: f.auth, Now: f.now, Etcd: f.etcd})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = m.Close() })
	return m
}

func (f *fixture) seed(accts ...accounts.Account) {
	f.t.Helper()
	if _, err := f.m.Put(context.Background(), accts...); err != nil {
		f.t.Fatal(err)
	}
}

// add makes a consumer of account and returns its credential.
func (f *fixture) add(consumer, account string) string {
	f.t.Helper()
	_, cred, err := f.m.AddConsumer(context.Background(), consumer, account)
	if err != nil {
		f.t.Fatal(err)
	}
	f.creds = append(f.creds, cred)
	return cred
}

// start runs the service on 127.0.0.1 with the options given.
func (f *fixture) start(opts serve.Options) {
	f.t.Helper()
	ln, err := serve.Listen(serve.ListenConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		f.t.Fatal(err)
	}
	f.serveOn(ln, opts)
}

func (f *fixture) serveOn(ln *serve.Listener, opts serve.Options) {
	f.t.Helper()
	opts.Manager = f.m
	if opts.Now == nil {
		opts.Now = f.now
	}
	if opts.Log == nil {
		opts.Log = &f.log
	}
	svc, err := serve.New(opts)
	if err != nil {
		f.t.Fatal(err)
	}
	if f.beforeServe != nil {
		f.beforeServe(svc)
	}
	f.svc, f.base = svc, ln.URL
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	var once sync.Once
	var serveErr error
	f.stop = func() error {
		once.Do(func() { cancel(); serveErr = <-done })
		return serveErr
	}
	f.t.Cleanup(func() {
		_ = f.stop()
		svc.Close()
	})
}

// reply is an answer of the service.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r reply) str(key string) string { s, _ := r.body[key].(string); return s }

func (f *fixture) do(req *http.Request) reply {
	f.t.Helper()
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	_, _ = f.bodies.Write(append(b, '\n'))
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if err := json.Unmarshal(b, &r.body); err != nil {
		f.t.Errorf("%s %s: the answer is not a JSON object: %q", req.Method, req.URL.Path, b)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		f.t.Errorf("%s %s: headers %v", req.Method, req.URL.Path, resp.Header)
	}
	return r
}

// post sends a token request with the given body type and body.
func (f *fixture) post(path, contentType, body string) reply {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.base+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return f.do(req)
}

// refresh is the refresh_token grant with cred, as a form.
func (f *fixture) refresh(cred string) reply {
	f.t.Helper()
	return f.post(serve.TokenPath, "application/x-www-form-urlencoded",
		"grant_type=refresh_token&client_id=ownerapi&refresh_token="+cred)
}

// get is GET /v1/token/name with the credential as bearer.
func (f *fixture) get(name, authorization string) reply {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.base+serve.TokenByName+name, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return f.do(req)
}

func (f *fixture) account(name string) accounts.Account {
	f.t.Helper()
	a, err := f.m.Find(context.Background(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// checkNoSecretLeft fails the test if a refresh token or a credential is
// in a response body or a log line (credentials do belong in the token
// endpoint's refresh_token field: that one is taken out first), or an
// access token in a log line.
func (f *fixture) checkNoSecretLeft() {
	f.auth.mu.Lock()
	secrets := append([]string{f.clientSecret}, f.auth.seen...)
	access := append([]string(nil), f.auth.access...)
	f.auth.mu.Unlock()
	if m, err := accounts.Open("", accounts.Options{Dir: f.dir}); err == nil {
		list, _ := m.List(context.Background())
		_ = m.Close()
		for _, a := range list {
			secrets = append(secrets, a.RefreshToken)
			access = append(access, a.AccessToken)
		}
	}
	bodies := f.bodies.String()
	for _, cred := range f.creds {
		bodies = strings.ReplaceAll(bodies, `"refresh_token":"`+cred+`"`, `"refresh_token":"(the credential)"`)
	}
	log := f.log.String()
	for _, s := range secrets {
		if s != "" && (strings.Contains(bodies, s) || strings.Contains(log, s)) {
			f.t.Errorf("a refresh token or the client secret of an account left keyfob (in a response or the log)")
		}
	}
	for _, s := range access {
		if s != "" && strings.Contains(log, s) {
			f.t.Errorf("an access token is in the log")
		}
	}
	for _, c := range f.creds {
		if strings.Contains(log, c) {
			f.t.Errorf("a consumer credential is in the log")
		}
		if strings.Contains(bodies, c) {
			f.t.Errorf("a consumer credential is in a response outside the token endpoint's refresh_token")
		}
	}
}

// logLines are the log lines that mention consumer.
func (f *fixture) logLines(consumer string) []string {
	var out []string
	for _, l := range strings.Split(f.log.String(), "\n") {
		if strings.Contains(l, "consumer="+consumer+" ") {
			out = append(out, l)
		}
	}
	return out
}

func must(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(format, args...)
	}
}

// http2Free is a transport with enough idle connections for many
// concurrent requests, so that the test measures the service rather than
// connection churn.
type http2Free struct {
	once sync.Once
	max  int
	t    *http.Transport
}

func (h *http2Free) RoundTrip(r *http.Request) (*http.Response, error) {
	h.once.Do(func() {
		h.t = http.DefaultTransport.(*http.Transport).Clone()
		h.t.MaxIdleConnsPerHost, h.t.MaxIdleConns = h.max, h.max
	})
	return h.t.RoundTrip(r)
}
