package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestListRefreshEnding: a refresh token 6 days 23 hours from its
// estimated end is flagged in the list and in --json; one 7 days 1 hour
// from it is not.
func TestListRefreshEnding(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	now := time.Now()
	soon, later := e.minted("a0000001", "soon", 8*time.Hour), e.minted("a0000002", "later", 8*time.Hour)
	soon.RefreshObtainedAt = now.Add(-accounts.RefreshTokenLifetime + accounts.RefreshEndingWithin - time.Hour)
	// later's server kept its refresh token at its last refresh: only a
	// new login renews it.
	later.LastRefresh = &accounts.RefreshResult{At: now.Add(-time.Hour), OK: true}
	later.RefreshObtainedAt = now.Add(-accounts.RefreshTokenLifetime + accounts.RefreshEndingWithin + time.Hour)
	e.seed(soon, later)

	r := e.mustRun("", "list")
	rows := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n")[1:] {
		rows[strings.Fields(line)[0]] = line
	}
	if !strings.Contains(rows["soon"], "! refresh ending") || !strings.Contains(rows["later"], "✓ valid") {
		t.Fatalf("list:\n%s", r.stdout)
	}

	r = e.mustRun("", "list", "--json")
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 2 {
		t.Fatal(err, r.stdout)
	}
	for _, entry := range got {
		want, renewal := entry["name"] == "soon", "login"
		if want {
			renewal = "refresh"
		}
		if entry["refresh_expires_soon"] != want || entry["status"] != "valid" || entry["refresh_renewed_by"] != renewal {
			t.Errorf("entry %v", entry)
		}
	}
}
