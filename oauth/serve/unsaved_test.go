package serve_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/serve"
)

// A refresh whose result the store cannot take (a full disk, a read-only
// store) still got a valid token, kept in the recovery file: the consumer
// gets it rather than a 503 for every refresh.
func TestARefreshTheStoreCannotTakeIsServed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	f.seed(f.minted("000000a1", "car", -time.Minute))
	old := f.account("car")
	cred := f.add("tm", "car")
	// Break every store write: a directory where the store lock goes.
	lock := filepath.Join(f.dir, ".accounts.lock")
	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(lock, 0o700); err != nil {
		t.Fatal(err)
	}
	f.start(serve.Options{})
	r := f.refresh(cred)
	must(t, r.status == 200 && r.str("access_token") != "" && r.str("access_token") != old.AccessToken,
		"answer %d %v", r.status, r.body)
	must(t, f.srv.Stats().Refreshes == 1, "%d refreshes", f.srv.Stats().Refreshes)
	kept := f.account("car") // the store with its recovery file laid over it
	must(t, kept.AccessToken == r.str("access_token") && f.srv.RefreshTokenLive(kept.RefreshToken),
		"the recovery file does not hold what was served")
	lines := f.logLines("tm")
	must(t, len(lines) == 1 && strings.Contains(lines[0], "status=200"), "log %q", lines)
}
