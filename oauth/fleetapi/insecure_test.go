package fleetapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// wire answers every request itself and remembers which ones carried a
// bearer token over plain http: what anyone on the way could read.
type wire struct {
	mu      sync.Mutex
	leaked  []string
	answers func(*http.Request) *http.Response
}

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	w.mu.Lock()
	if r.URL.Scheme == "http" && r.Header.Get("Authorization") != "" {
		w.leaked = append(w.leaked, r.URL.String())
	}
	w.mu.Unlock()
	return w.answers(r), nil
}

func answer(status int, header http.Header, body string) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(body)), Proto: "HTTP/1.1"}
}

// A token goes to a plain http address off this machine only with the
// account's opt-in: an audience or userinfo URL edited to http, or an
// https server redirecting to http, must not put it on the wire.
func TestTokensStayOffPlainHTTP(t *testing.T) {
	region := `{"response":{"region":"na","fleet_api_base_url":"https://fleet.example.com"}}`
	w := &wire{answers: func(r *http.Request) *http.Response {
		if r.URL.Scheme == "https" && r.URL.Host == "redirecting.example.com" {
			return answer(http.StatusFound, http.Header{"Location": {"http://redirecting.example.com" + r.URL.Path}}, "")
		}
		return answer(http.StatusOK, http.Header{"Content-Type": {"application/json"}}, region)
	}}
	c := &Client{HTTP: &http.Client{Transport: w}}
	fleet := accounts.Account{ID: "0000000a", Name: "car", Kind: accounts.KindFleet, Region: "na", AccessToken: "at-secret"}
	custom := accounts.Account{ID: "0000000b", Name: "other", Kind: accounts.KindCustom, AccessToken: "at-secret"}
	for _, tc := range []struct {
		name string
		a    accounts.Account
	}{
		{"http audience", with(fleet, func(a *accounts.Account) { a.Audience = "http://fleet.example.com" })},
		{"redirect to http", with(fleet, func(a *accounts.Account) { a.Audience = "https://redirecting.example.com" })},
		{"http userinfo", with(custom, func(a *accounts.Account) { a.Endpoints.UserInfoURL = "http://id.example.com/userinfo" })},
	} {
		_, err := c.Check(context.Background(), tc.a)
		if !errors.Is(err, oauth.ErrInsecureHTTP) {
			t.Errorf("%s: got %v, want a refusal of plain http", tc.name, err)
		}
		if err != nil && strings.Contains(err.Error(), "at-secret") {
			t.Errorf("%s: the error holds the token: %v", tc.name, err)
		}
	}
	if len(w.leaked) > 0 {
		t.Fatalf("the token went over plain http to %v", w.leaked)
	}
	// The account's opt-in allows it.
	optIn := with(fleet, func(a *accounts.Account) { a.Audience = "http://fleet.example.com"; a.AllowInsecureHTTP = true })
	if _, err := c.Check(context.Background(), optIn); errors.Is(err, oauth.ErrInsecureHTTP) {
		t.Fatalf("opted in: %v", err)
	}
}

func with(a accounts.Account, fn func(*accounts.Account)) accounts.Account {
	fn(&a)
	return a
}

// The region mismatch names both Fleet API bases, which the user has to
// compare: whole, yet without escape sequences or the token.
func TestMismatchShowsTheBases(t *testing.T) {
	na, eu := "https://fleet-api.prd.na.vn.cloud.tesla.com", "https://fleet-api.prd.eu.vn.cloud.tesla.com"
	msg := (&MismatchError{AccountRegion: "na", AccountBase: na, Region: "eu", Base: eu}).Error()
	if !strings.Contains(msg, na) || !strings.Contains(msg, eu) {
		t.Errorf("the message hides a base: %s", msg)
	}
	msg = (&MismatchError{AccountRegion: "na", AccountBase: na, Region: "eu", Base: "https://fleet\u202e.example.com/\x1b[31m"}).Error()
	if strings.ContainsAny(msg, "\u202e\x1b") {
		t.Errorf("the message holds control characters: %q", msg)
	}
	w := &wire{answers: func(r *http.Request) *http.Response {
		return answer(http.StatusOK, nil, `{"response":{"region":"eu","fleet_api_base_url":"https://fleet.example.com/at-secret-token-value"}}`)
	}}
	a := accounts.Account{ID: "0000000a", Name: "car", Kind: accounts.KindFleet, Region: "na", Audience: na, AccessToken: "at-secret-token-value"}
	r, err := (&Client{HTTP: &http.Client{Transport: w}}).Check(context.Background(), a)
	if err == nil || strings.Contains(err.Error(), "at-secret-token-value") || strings.Contains(r.Region.TeslaBase, "at-secret-token-value") {
		t.Fatalf("the token is shown: %v %+v", err, r.Region)
	}
}
