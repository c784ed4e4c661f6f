package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/keyfob/keyfob/oauth/sandbox"
)

// A test seeds tokens with Mint, lets the code under test refresh them and
// asserts on what the server saw.
func Example() {
	s, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	ts := s.Mint(sandbox.MintRequest{ClientID: sandbox.FleetClientID, Scopes: []string{"openid", "offline_access"}})
	for range 2 {
		resp, err := http.PostForm(s.Issuer()+"/token", url.Values{
			"grant_type": {"refresh_token"}, "client_id": {sandbox.FleetClientID}, "refresh_token": {ts.RefreshToken},
		})
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	fmt.Println("refreshes:", s.Stats().Refreshes, "live refresh tokens:", s.LiveRefreshTokens())
	// Output:
	// 200
	// 401
	// refreshes: 1 live refresh tokens: 1
}

func BenchmarkRefresh(b *testing.B) {
	s := sandbox.NewTest(b, sandbox.Options{})
	rt := s.Mint(sandbox.MintRequest{Scopes: []string{"openid", "offline_access"}}).RefreshToken
	client := &http.Client{}
	for b.Loop() {
		resp, err := client.PostForm(s.Issuer()+"/token", url.Values{
			"grant_type": {"refresh_token"}, "client_id": {sandbox.FleetClientID}, "refresh_token": {rt},
		})
		if err != nil {
			b.Fatal(err)
		}
		var body struct {
			RefreshToken string `json:"refresh_token"`
		}
		err = decode(resp, &body)
		if err != nil || body.RefreshToken == "" {
			b.Fatalf("refresh: %v", err)
		}
		rt = body.RefreshToken
	}
}

func decode(resp *http.Response, v any) error {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
