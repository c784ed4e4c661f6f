package serve_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/serve"
)

// TestBusinessAuthCodeNeverInTheLog: a business token's auth code, echoed
// by a failing upstream, is cut out of serve's log like the other secrets.
func TestBusinessAuthCodeNeverInTheLog(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	a := f.minted("000000b1", "fleet-co", -time.Minute)
	a.AuthCode = "biz_0123456789abcdef0123"
	f.seed(a)
	cred := f.add("tm", "fleet-co")
	f.auth.fail = func(a accounts.Account) error {
		return fmt.Errorf("token endpoint answered 500: unknown auth_code=%s", a.AuthCode)
	}
	f.start(serve.Options{})
	if r := f.refresh(cred); r.status != 503 {
		t.Fatalf("answer %d %v", r.status, r.body)
	}
	lines := f.logLines("tm")
	if len(lines) != 1 || strings.Contains(lines[0], a.AuthCode) || !strings.Contains(lines[0], "auth_code=[redacted]") {
		t.Fatalf("log %q", lines)
	}
}
