package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/serve"
)

func TestTokenJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	car := e.minted("a0000001", "car", time.Hour)
	car.Audience, car.Endpoints.APIBaseURL = sandbox.TeslaFleetAPIBase("na"), e.srv.FleetAPIBase("na")
	e.seed(car)
	a := e.account("car")
	r := e.mustRun("", "token", "car", "--json")
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%q: %v", r.stdout, err)
	}
	want := map[string]any{
		"name": "car", "id": "a0000001", "token_type": "Bearer", "access_token": a.AccessToken,
		"expires_at": a.Expiry.UTC().Format(time.RFC3339),
		"scopes":     []any{"openid", "offline_access", "vehicle_device_data"},
	}
	for k, v := range want {
		if b, _ := json.Marshal(got[k]); string(b) != mustJSON(t, v) {
			t.Errorf("%s = %s, want %s", k, b, mustJSON(t, v))
		}
	}
	if in, ok := got["expires_in"].(float64); !ok || in < 3590 || in > 3600 {
		t.Errorf("expires_in = %v", got["expires_in"])
	}
	// Where to call the API: the account's own API base (the sandbox's),
	// not the audience on Tesla's host.
	if got["api_base_url"] != e.srv.FleetAPIBase("na") {
		t.Errorf("api_base_url = %v, want %q", got["api_base_url"], e.srv.FleetAPIBase("na"))
	}
	if len(got) != 8 {
		t.Errorf("fields %v: the schema in README has 8", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTokenWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour))
	tok := e.account("car").AccessToken
	file := filepath.Join(e.dir, "token")
	// An existing file readable by others is replaced by a private one.
	if err := os.WriteFile(file, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.mustRun("", "token", "car", "--write", file)
	b, _ := os.ReadFile(file)
	fi, _ := os.Stat(file)
	if r.stdout != "" || string(b) != tok || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stdout %q; file %q mode %v: want the token alone, 0600", r.stdout, b, fi.Mode().Perm())
	}
	e.mustRun("", "token", "car", "--json", "--write", file)
	var got serve.NamedToken
	if b, _ := os.ReadFile(file); json.Unmarshal(b, &got) != nil || got.AccessToken != tok {
		t.Fatalf("--json --write wrote %q", b)
	}
	// A link is refused and what it points at is left alone.
	target, link := filepath.Join(e.dir, "target"), filepath.Join(e.dir, "link")
	os.WriteFile(target, []byte("mine"), 0o600)
	os.Symlink(target, link)
	r = e.run("", "token", "car", "--write", link)
	if b, _ := os.ReadFile(target); r.code != 1 || !strings.Contains(r.stderr, "symbolic link") || string(b) != "mine" {
		t.Fatalf("link: exit %d %s; target holds %q", r.code, r.stderr, b)
	}
	for _, args := range [][]string{
		{"--write", file, "--copy"}, {"--json", "--copy"}, {"--json", "--refresh-token"}, {"--write", file, "--refresh-token"},
	} {
		if r := e.run("", append([]string{"token", "car"}, args...)...); r.code != 2 || strings.Contains(r.stdout+r.stderr, tok) {
			t.Errorf("%v: exit %d %s", args, r.code, r.stderr)
		}
	}
	if r := e.run("", "token", "car", "--write", filepath.Join(e.dir, "no-dir", "token")); r.code != 1 {
		t.Errorf("missing directory: exit %d", r.code)
	}
}

// TestTokenWriteIsAtomic: a reader of the file, while two accounts' tokens
// take turns in it, only ever finds one of them whole.
func TestTokenWriteIsAtomic(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour), e.minted("a0000002", "truck", time.Hour))
	valid := map[string]bool{e.account("car").AccessToken: true, e.account("truck").AccessToken: true}
	file := filepath.Join(e.dir, "token")
	e.mustRun("", "token", "car", "--write", file)
	var stop atomic.Bool
	var bad, reads atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			b, err := os.ReadFile(file)
			reads.Add(1)
			if err != nil || !valid[string(b)] {
				bad.Add(1)
			}
		}
	}()
	for i := range 60 {
		e.mustRun("", "token", []string{"car", "truck"}[i%2], "--write", file)
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d of %d reads found no token or a torn one", bad.Load(), reads.Load())
	}
}
