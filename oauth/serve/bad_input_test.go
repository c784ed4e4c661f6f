package serve_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/serve"
)

// TestBadInput: every way a request can be wrong, with the status and
// OAuth error code it gets. Each answer is JSON with Cache-Control:
// no-store (checked by fixture.do), and the fixture checks that no refresh
// token or credential is in any of them or in the log.
func TestBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	dead := f.minted("000000a3", "dead", -time.Minute)
	dead.State = accounts.StateLoginRequired
	f.seed(f.minted("000000a1", "car", time.Hour), f.minted("000000a2", "truck", time.Hour), dead)
	cred, deadCred := f.add("tm", "car"), f.add("old", "dead")
	gone := f.add("gone", "car")
	if _, err := f.m.RemoveConsumer(t.Context(), "gone"); err != nil {
		t.Fatal(err)
	}
	f.start(serve.Options{})
	form := "application/x-www-form-urlencoded"
	grant := func(rt string) string { return "grant_type=refresh_token&refresh_token=" + url.QueryEscape(rt) }
	for _, tc := range []struct {
		name   string
		send   func() reply
		status int
		code   string
	}{
		{"unknown credential", func() reply { return f.refresh(accounts.NewCredential()) }, 401, "invalid_client"},
		{"removed consumer", func() reply { return f.refresh(gone) }, 401, "invalid_client"},
		{"a Tesla refresh token", func() reply { return f.refresh(f.account("car").RefreshToken) }, 401, "invalid_client"},
		{"another account's token", func() reply { return f.get("truck", "Bearer "+cred) }, 403, "access_denied"},
		{"an account that does not exist", func() reply { return f.get("boat", "Bearer "+cred) }, 403, "access_denied"},
		{"login required", func() reply { return f.refresh(deadCred) }, 400, "invalid_grant"},
		{"login required by name", func() reply { return f.get("dead", "Bearer "+deadCred) }, 400, "invalid_grant"},
		{"no grant_type", func() reply { return f.post(serve.TokenPath, form, "refresh_token="+cred) }, 400, "invalid_request"},
		{"password grant", func() reply { return f.post(serve.TokenPath, form, "grant_type=password&username=a&password=b") }, 400, "unsupported_grant_type"},
		{"no refresh_token", func() reply { return f.post(serve.TokenPath, form, "grant_type=refresh_token") }, 400, "invalid_request"},
		{"refresh_token twice", func() reply { return f.post(serve.TokenPath, form, grant(cred)+"&refresh_token=x") }, 400, "invalid_request"},
		{"credential in the query", func() reply {
			return f.post(serve.TokenPath+"?"+grant(cred), form, "")
		}, 400, "invalid_request"},
		{"JSON refresh_token twice", func() reply {
			return f.post(serve.TokenPath, "application/json", `{"grant_type":"refresh_token","refresh_token":"`+cred+`","refresh_token":"x"}`)
		}, 400, "invalid_request"},
		{"JSON refresh_token twice, once escaped", func() reply {
			return f.post(serve.TokenPath, "application/json", `{"grant_type":"refresh_token","refresh_token":"x","refresh\u005ftoken":"`+cred+`"}`)
		}, 400, "invalid_request"},
		{"JSON grant_type twice", func() reply {
			return f.post(serve.TokenPath, "application/json", `{"grant_type":"password","grant_type":"refresh_token","refresh_token":"`+cred+`"}`)
		}, 400, "invalid_request"},
		{"JSON trailing value", func() reply {
			return f.post(serve.TokenPath, "application/json", `{"grant_type":"refresh_token","refresh_token":"`+cred+`"} {}`)
		}, 400, "invalid_request"},
		{"broken JSON", func() reply { return f.post(serve.TokenPath, "application/json", `{"grant_type":`) }, 400, "invalid_request"},
		{"JSON number", func() reply {
			return f.post(serve.TokenPath, "application/json", `{"grant_type":"refresh_token","refresh_token":42}`)
		}, 400, "invalid_request"},
		{"JSON array", func() reply { return f.post(serve.TokenPath, "application/json", `["refresh_token"]`) }, 400, "invalid_request"},
		{"plain text", func() reply { return f.post(serve.TokenPath, "text/plain", grant(cred)) }, 400, "invalid_request"},
		{"bad Content-Type", func() reply { return f.post(serve.TokenPath, "application/json; =", "{}") }, 400, "invalid_request"},
		{"bad form", func() reply { return f.post(serve.TokenPath, form, "grant_type=%zz") }, 400, "invalid_request"},
		{"body too large", func() reply {
			return f.post(serve.TokenPath, form, grant(cred)+"&scope="+strings.Repeat("a", serve.MaxBodyBytes))
		}, 413, "invalid_request"},
		{"JSON too large", func() reply {
			return f.post(serve.TokenPath, "application/json", `{"scope":"`+strings.Repeat("a", serve.MaxBodyBytes)+`"}`)
		}, 413, "invalid_request"},
		{"GET on the token endpoint", func() reply { return f.do(newRequest(t, "GET", f.base+serve.TokenPath)) }, 405, "invalid_request"},
		{"POST by name", func() reply { return f.do(newRequest(t, "POST", f.base+serve.TokenByName+"car")) }, 405, "invalid_request"},
		{"no Authorization", func() reply { return f.get("car", "") }, 401, "invalid_client"},
		{"Basic Authorization", func() reply { return f.get("car", "Basic dG06eA==") }, 400, "invalid_request"},
		{"unknown bearer", func() reply { return f.get("car", "Bearer "+accounts.NewCredential()) }, 401, "invalid_client"},
		{"no name", func() reply { return f.get("", "Bearer "+cred) }, 404, "not_found"},
		{"unknown path", func() reply { return f.do(newRequest(t, "GET", f.base+"/oauth2/v3/authorize")) }, 404, "not_found"},
		{"root", func() reply { return f.do(newRequest(t, "DELETE", f.base+"/")) }, 404, "not_found"},
	} {
		r := tc.send()
		if r.status != tc.status || r.str("error") != tc.code || r.str("error_description") == "" {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.status, r.raw, tc.status, tc.code)
		}
		if tc.status == 401 && r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tc.name)
		}
	}
	r := f.refresh(deadCred)
	must(t, strings.Contains(r.str("error_description"), `"dead" needs a new login in keyfob`), "description %q", r.str("error_description"))
	must(t, strings.Contains(f.log.String(), "consumer=old account=dead status=400 outcome=login_required"), "log:\n%s", f.log.String())
	must(t, f.srv.Stats().Refreshes == 0, "a bad request reached the sandbox")
}

func newRequest(t *testing.T, method, u string) *http.Request {
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestUpstreamFailures: when the refresh fails upstream, a token that
// still works is served (outcome stale); an expired one is a 503 to try
// again, and a rejected refresh token is invalid_grant.
func TestUpstreamFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("000000a1", "soon", 2*time.Minute), f.minted("000000a2", "expired", -time.Minute),
		f.minted("000000a3", "rejected", -time.Minute))
	soon, expired, rejected := f.add("a", "soon"), f.add("b", "expired"), f.add("c", "rejected")
	f.start(serve.Options{})
	f.srv.FailNext(sandbox.FaultServerError, 2)
	r := f.refresh(soon)
	must(t, r.status == 200 && r.str("access_token") == f.account("soon").AccessToken, "still-valid token: %d %v", r.status, r.body)
	r = f.refresh(expired)
	must(t, r.status == 503 && r.str("error") == "temporarily_unavailable" && r.header.Get("Retry-After") != "", "expired: %d %v", r.status, r.body)
	f.srv.FailNext(sandbox.FaultLoginRequired, 1)
	r = f.refresh(rejected)
	must(t, r.status == 400 && r.str("error") == "invalid_grant", "rejected: %d %v", r.status, r.body)
	for consumer, outcome := range map[string]string{"a": "stale", "b": "unavailable", "c": "login_required"} {
		lines := f.logLines(consumer)
		must(t, len(lines) == 1 && strings.Contains(lines[0], "outcome="+outcome), "%s: %q", consumer, lines)
	}
	// The failed refresh holds the account's next ones back: a consumer
	// asking at once is told when to come back, and nothing reaches the
	// server.
	st := f.srv.Stats()
	r = f.refresh(expired)
	wait, _ := strconv.Atoi(r.header.Get("Retry-After"))
	must(t, r.status == 503 && wait > 0 && wait <= int(accounts.BackoffFirst/time.Second), "during the back-off: %d %v %v", r.status, r.header, r.body)
	// Later in the back-off, the wait left is said.
	f.advance(20 * time.Second)
	r = f.refresh(expired)
	left, _ := strconv.Atoi(r.header.Get("Retry-After"))
	must(t, r.status == 503 && left > 0 && left <= wait-19, "later in the back-off: %d %v", r.status, r.header)
	must(t, f.srv.Stats() == st, "a refresh reached the server during the back-off: %+v", f.srv.Stats())
	// Once the back-off is over and upstream answers again, the expired
	// account is refreshed.
	f.advance(time.Duration(left) * time.Second)
	must(t, f.refresh(expired).status == 200, "no recovery after the failure")
}

// TestUpstreamErrorTextIsRedactedInTheLog: an upstream that echoes what it
// was sent (the refresh token, the client secret, the access token) has
// its error text logged with every one of them cut out; the fixture fails
// the test if one is left in the log.
func TestUpstreamErrorTextIsRedactedInTheLog(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("000000a1", "car", -time.Minute))
	cred := f.add("tm", "car")
	f.auth.fail = func(a accounts.Account) error {
		return fmt.Errorf("token endpoint answered 500: bad refresh_token=%s client_secret=%s access_token=%s",
			a.RefreshToken, a.ClientSecret, a.AccessToken)
	}
	f.start(serve.Options{})
	r := f.refresh(cred)
	must(t, r.status == 503, "answer %d %v", r.status, r.body)
	lines := f.logLines("tm")
	must(t, len(lines) == 1 && strings.Contains(lines[0], `token endpoint answered 500: bad refresh_token=[redacted] client_secret=[redacted] access_token=[redacted]"`),
		"log %q", lines)
}
