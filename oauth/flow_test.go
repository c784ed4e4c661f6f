package oauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
)

func TestRedirectPlan(t *testing.T) {
	v4, both, v6 := []string{"127.0.0.1"}, []string{"127.0.0.1", "::1"}, []string{"::1"}
	cases := []struct {
		uri      string
		exact    bool
		loopback bool
		hosts    []string
		port     string
		fail     bool
	}{
		{"", false, true, v4, "0", false},
		{"http://127.0.0.1:8080/callback", false, true, v4, "8080", false},
		{"http://127.1.2.3:8080/callback", false, true, []string{"127.1.2.3"}, "8080", false},
		{"http://localhost/callback", false, true, both, "0", false},
		{"http://localhost/callback", true, true, both, "80", false},
		{"http://[::1]:9000/cb", true, true, v6, "9000", false},
		{"http://LOCALHOST:1234", false, true, both, "1234", false},
		{"tesla://auth/callback", true, false, nil, "", false},
		{"https://127.0.0.1:8080/callback", false, false, nil, "", false},
		{"https://app.example/callback", false, false, nil, "", false},
		{"http://192.168.1.2:8080/callback", false, false, nil, "", false},
		{"http://127.0.0.1:0x50/cb", false, false, nil, "", true},
		{"http://127.0.0.1:0/cb", true, false, nil, "", true},
		{"no scheme", false, false, nil, "", true},
	}
	for _, tc := range cases {
		p, err := redirectPlan(tc.uri, tc.exact)
		if p.loopback != tc.loopback || !slices.Equal(p.hosts, tc.hosts) || p.port != tc.port || (err != nil) != tc.fail {
			t.Errorf("redirectPlan(%q, %v) = %+v %v", tc.uri, tc.exact, p, err)
		}
	}
}

// fakeTokenServer answers code exchanges with a fixed token set and counts
// them; it records the last form it received.
type fakeTokenServer struct {
	*httptest.Server
	exchanges atomic.Int32
	lastForm  atomic.Value // url.Values
}

func newFakeTokenServer(t *testing.T, answer func(w http.ResponseWriter, form url.Values)) *fakeTokenServer {
	t.Helper()
	s := &fakeTokenServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		s.lastForm.Store(r.PostForm)
		s.exchanges.Add(1)
		answer(w, r.PostForm)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fakeTokenServer) form() url.Values {
	v, _ := s.lastForm.Load().(url.Values)
	return v
}

func jsonAnswer(status int, body string) func(http.ResponseWriter, url.Values) {
	return func(w http.ResponseWriter, _ url.Values) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func customCodeAccount(tokenURL string) accounts.Account {
	return accounts.Account{
		Kind: accounts.KindCustom, ClientID: "my-app", Audience: "https://api.example",
		RequestedScopes: []string{"openid", "offline_access"},
		Endpoints:       accounts.Endpoints{AuthURL: "https://auth.example/authorize", TokenURL: tokenURL},
	}
}

func TestStartCodeFlowAuthURL(t *testing.T) {
	e := &Engine{}
	ctx := context.Background()

	fleet, _ := Preset(accounts.KindFleet, "eu")
	fleet.ClientID = "fleet-app"
	fleet.Endpoints.RedirectURI = "https://app.example/callback"
	f, err := e.StartCodeFlowWith(ctx, fleet, LoginOptions{Locale: "de-DE", RequireRequestedScopes: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u, _ := url.Parse(f.AuthURL())
	q := u.Query()
	if u.Host != "auth.tesla.com" || q.Get("response_type") != "code" || q.Get("client_id") != "fleet-app" ||
		q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 20 ||
		q.Get("prompt_missing_scopes") != "true" || q.Get("audience") != "" || q.Get("redirect_uri") != f.RedirectURI() ||
		!strings.Contains(q.Get("scope"), "energy_cmds") || q.Get("nonce") != f.nonce || len(f.nonce) < 20 ||
		q.Get("locale") != "de-DE" || q.Get("require_requested_scopes") != "true" || q.Has("login_hint") {
		t.Errorf("fleet authorize URL %s", f.AuthURL())
	}
	if f.Loopback() || f.RedirectURI() != "https://app.example/callback" {
		t.Errorf("fleet redirect %q loopback %v", f.RedirectURI(), f.Loopback())
	}
	if strings.Contains(f.AuthURL(), f.verifier) {
		t.Error("the authorize URL holds the code verifier")
	}

	owner, _ := Preset(accounts.KindOwner, "na")
	owner.Email = "me@example.com"
	of, err := e.StartCodeFlow(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	defer of.Close()
	q = mustQuery(t, of.AuthURL())
	if of.Loopback() || of.RedirectURI() != "tesla://auth/callback" || q.Get("login_hint") != "me@example.com" ||
		q.Get("client_id") != "ownerapi" || q.Get("scope") != "openid email offline_access" || q.Get("prompt_missing_scopes") != "" ||
		q.Has("locale") || q.Has("require_requested_scopes") || q.Get("nonce") == "" {
		t.Errorf("owner authorize URL %s", of.AuthURL())
	}
	if _, err := of.Wait(ctx); err == nil {
		t.Error("Wait on a paste flow did not fail")
	}

	// Two flows never share a state, nonce or verifier.
	f2, _ := e.StartCodeFlow(ctx, fleet)
	defer f2.Close()
	if f2.state == f.state || f2.verifier == f.verifier || f2.nonce == f.nonce {
		t.Error("flows share their secrets")
	}
	if q := mustQuery(t, f2.AuthURL()); q.Has("locale") || q.Has("require_requested_scopes") {
		t.Errorf("options of another login: %s", f2.AuthURL())
	}
	custom := customCodeAccount("https://auth.example/token")
	custom.Endpoints.RedirectURI = "https://app.example/cb"
	cf, err := e.StartCodeFlowWith(ctx, custom, LoginOptions{Locale: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	if q := mustQuery(t, cf.AuthURL()); q.Get("ui_locales") != "fr" || q.Has("locale") || q.Has("prompt_missing_scopes") {
		t.Errorf("custom authorize URL %s", cf.AuthURL())
	}
	if _, err := e.StartCodeFlowWith(ctx, custom, LoginOptions{Locale: "not a locale"}); !isField(err, FieldLocale) {
		t.Errorf("bad locale: %v", err)
	}

	partner, _ := Preset(accounts.KindPartner, "na")
	if _, err := e.StartCodeFlow(ctx, partner); err == nil {
		t.Error("a partner account started a browser flow")
	}
}

// isField reports whether err is a *FieldError for f.
func isField(err error, f Field) bool {
	var fe *FieldError
	return errors.As(err, &fe) && fe.Field == f
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// TestLoopbackFixedPortListensOnIPv4LoopbackOnly registers a fixed-port
// redirect URI and checks where the listener is.
func TestLoopbackFixedPortListensOnIPv4LoopbackOnly(t *testing.T) {
	// Find a free port, then use it as the registered one.
	probe := httptest.NewServer(http.NotFoundHandler())
	port := probe.Listener.Addr().(interface{ String() string }).String()
	probe.Close()
	port = port[strings.LastIndexByte(port, ':')+1:]

	a := customCodeAccount("http://127.0.0.1:1/token")
	a.Endpoints.RedirectURI = "http://localhost:" + port + "/oauth/done"
	f, err := (&Engine{}).StartCodeFlow(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.RedirectURI() != a.Endpoints.RedirectURI || f.srv == nil {
		t.Fatalf("redirect %q", f.RedirectURI())
	}
	resp, err := http.Get("http://127.0.0.1:" + port + "/oauth/done")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a callback without code got %d", resp.StatusCode)
	}
	if resp, err := http.Get("http://127.0.0.1:" + port + "/favicon.ico"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("other paths got %d", resp.StatusCode)
		}
	}
}

// browse plays the browser coming back to the loopback listener.
func browse(t *testing.T, rawURL string) (int, string) {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLoopbackCallbackExchangesOnce(t *testing.T) {
	access := makeJWT(t, map[string]any{"sub": "u1", "scp": []string{"openid", "offline_access"}, "ou_code": "NA"})
	srv := newFakeTokenServer(t, jsonAnswer(200, `{"access_token":"`+access+`","token_type":"Bearer","expires_in":3600,"refresh_token":"NA_rt1"}`))
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	e := &Engine{Now: func() time.Time { return now }}
	a := customCodeAccount(srv.URL + "/token")
	f, err := e.StartCodeFlow(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	type waited struct {
		a   accounts.Account
		err error
	}
	done := make(chan waited, 1)
	go func() {
		got, err := f.Wait(context.Background())
		done <- waited{got, err}
	}()
	status, body := browse(t, f.RedirectURI()+"?code=the-code&state="+url.QueryEscape(f.state))
	if status != 200 || !strings.Contains(body, "Signed in to keyfob") {
		t.Errorf("browser page %d %s", status, body)
	}
	w := <-done
	if w.err != nil {
		t.Fatal(w.err)
	}
	if w.a.AccessToken != access || w.a.RefreshToken != "NA_rt1" || !w.a.Expiry.Equal(now.Add(time.Hour)) ||
		w.a.Subject != "u1" || w.a.Region != "" || w.a.State != accounts.StateActive {
		t.Errorf("account %+v", w.a)
	}
	form := srv.form()
	if form.Get("grant_type") != "authorization_code" || form.Get("code") != "the-code" || form.Get("code_verifier") != f.verifier ||
		form.Get("redirect_uri") != f.RedirectURI() || form.Get("client_id") != "my-app" || form.Get("audience") != "https://api.example" {
		t.Errorf("exchange form %v", form)
	}
	// The listener is gone after one good callback.
	if _, err := http.Get(f.RedirectURI() + "?code=again&state=" + url.QueryEscape(f.state)); err == nil {
		t.Error("the listener still answers after the login")
	}
	if srv.exchanges.Load() != 1 {
		t.Errorf("%d exchanges", srv.exchanges.Load())
	}
}

// A callback without this login's state — another state, none, or an
// error that does not carry it — gets a 400 page and ends nothing: anyone
// on the machine can reach the listener. The right answer still works
// afterwards.
func TestLoopbackIgnoresAnswersOfOtherLogins(t *testing.T) {
	access := makeJWT(t, map[string]any{"sub": "u1"})
	srv := newFakeTokenServer(t, jsonAnswer(200, `{"access_token":"`+access+`","token_type":"bearer"}`))
	f, err := (&Engine{}).StartCodeFlow(context.Background(), customCodeAccount(srv.URL+"/token"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := f.Wait(context.Background())
		errc <- err
	}()
	for _, q := range []string{"?code=c&state=forged", "?code=c", "?error=login_cancelled&state=forged", "?error=access_denied",
		"?state=forged&state=" + url.QueryEscape(f.state) + "&code=c"} {
		status, body := browse(t, f.RedirectURI()+q)
		if status != http.StatusBadRequest || !strings.Contains(body, "keeps waiting") {
			t.Errorf("%s: page %d %s", q, status, body)
		}
	}
	select {
	case err := <-errc:
		t.Fatalf("a foreign answer ended the login: %v", err)
	default:
	}
	if srv.exchanges.Load() != 0 {
		t.Fatal("the code of a foreign answer was exchanged")
	}
	status, body := browse(t, f.RedirectURI()+"?code=right&state="+url.QueryEscape(f.state))
	if err := <-errc; err != nil || status != http.StatusOK || !strings.Contains(body, "Signed in to keyfob") {
		t.Fatalf("the right answer: %v, page %d %s", err, status, body)
	}
	if srv.exchanges.Load() != 1 || srv.form().Get("code") != "right" {
		t.Errorf("%d exchanges of %q", srv.exchanges.Load(), srv.form().Get("code"))
	}
}

// An error that carries this login's state ends it: the user cancelled.
func TestLoopbackCancelledWithTheRightState(t *testing.T) {
	srv := newFakeTokenServer(t, jsonAnswer(200, `{"access_token":"x","token_type":"bearer"}`))
	f, err := (&Engine{}).StartCodeFlow(context.Background(), customCodeAccount(srv.URL+"/token"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := f.Wait(context.Background())
		errc <- err
	}()
	status, body := browse(t, f.RedirectURI()+"?error=login_cancelled&error_description=User+cancelled&state="+url.QueryEscape(f.state))
	if err := <-errc; !errors.Is(err, ErrLoginCancelled) {
		t.Fatalf("Wait: %v", err)
	}
	if status != 200 || !strings.Contains(body, "Sign-in failed") || !strings.Contains(body, "cancelled in the browser") {
		t.Errorf("page %d %s", status, body)
	}
	if srv.exchanges.Load() != 0 {
		t.Error("the code was exchanged")
	}
}

func TestWaitEndsOnContextAndClose(t *testing.T) {
	a := customCodeAccount("http://127.0.0.1:1/token")
	e := &Engine{}

	f, _ := e.StartCodeFlow(context.Background(), a)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := f.Wait(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out waiting for the browser") {
		t.Errorf("timeout: %v", err)
	}
	if _, err := http.Get(f.RedirectURI()); err == nil {
		t.Error("listener still open after the timeout")
	}

	f, _ = e.StartCodeFlow(context.Background(), a)
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := f.Wait(ctx); !errors.Is(err, ErrLoginCancelled) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v", err)
	}

	f, _ = e.StartCodeFlow(context.Background(), a)
	errc := make(chan error, 1)
	go func() {
		_, err := f.Wait(context.Background())
		errc <- err
	}()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal("second Close failed")
	}
	if err := <-errc; !errors.Is(err, ErrLoginCancelled) {
		t.Errorf("close: %v", err)
	}
}

func TestCompleteChecksStateAndFinishesOnce(t *testing.T) {
	srv := newFakeTokenServer(t, jsonAnswer(200, `{"access_token":"opaque-access","token_type":"bearer","expires_in":60}`))
	a := customCodeAccount(srv.URL + "/token")
	a.Endpoints.RedirectURI = "https://app.example/callback"
	f, err := (&Engine{}).StartCodeFlow(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if f.Loopback() {
		t.Fatal("a remote https redirect made a loopback flow")
	}
	ctx := context.Background()
	if _, err := f.Complete(ctx, "https://app.example/callback?code=c&state=forged"); !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("forged state: %v", err)
	}
	if srv.exchanges.Load() != 0 {
		t.Fatal("exchanged despite the state mismatch")
	}
	got, err := f.Complete(ctx, "https://app.example/callback?code=c&state="+f.state)
	if err != nil || got.AccessToken != "opaque-access" {
		t.Fatalf("complete: %+v %v", got, err)
	}
	if got.GrantedScopes == nil || strings.Join(got.GrantedScopes, " ") != "openid offline_access" {
		t.Errorf("scopes fall back to the requested ones: %q", got.GrantedScopes)
	}
	if _, err := f.Complete(ctx, "c2"); err == nil {
		t.Error("a finished flow exchanged a second code")
	}
}

func TestCompleteWorksForLoopbackFlows(t *testing.T) {
	srv := newFakeTokenServer(t, jsonAnswer(200, `{"access_token":"a","token_type":"bearer"}`))
	f, err := (&Engine{}).StartCodeFlow(context.Background(), customCodeAccount(srv.URL+"/token"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Complete(context.Background(), "bare-code")
	if err != nil || got.AccessToken != "a" || srv.form().Get("code") != "bare-code" {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := http.Get(f.RedirectURI()); err == nil {
		t.Error("listener still open after Complete")
	}
}

func TestLoopbackRedirectWithoutPathOrPort(t *testing.T) {
	access := makeJWT(t, map[string]any{"sub": "u1"})
	srv := newFakeTokenServer(t, jsonAnswer(200, `{"access_token":"`+access+`","token_type":"Bearer","expires_in":3600}`))

	// No port: the registered host and path stay, the listener's port is added.
	a := customCodeAccount(srv.URL + "/token")
	a.Endpoints.RedirectURI = "http://localhost/cb"
	f, err := (&Engine{}).StartCodeFlow(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u, _ := url.Parse(f.RedirectURI())
	if u.Hostname() != "localhost" || u.Path != "/cb" || u.Port() == "" {
		t.Fatalf("redirect %q", f.RedirectURI())
	}

	// No path: the browser comes back to "/".
	probe := httptest.NewServer(http.NotFoundHandler())
	addr := probe.Listener.Addr().String()
	probe.Close()
	b := customCodeAccount(srv.URL + "/token")
	b.Endpoints.RedirectURI = "http://" + addr
	g, err := (&Engine{}).StartCodeFlow(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	done := make(chan error, 1)
	go func() { _, err := g.Wait(context.Background()); done <- err }()
	if status, body := browse(t, "http://"+addr+"/?code=c&state="+url.QueryEscape(g.state)); status != 200 {
		t.Fatalf("callback at / got %d %s", status, body)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
