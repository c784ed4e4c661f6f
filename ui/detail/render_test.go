package detail

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/themes"
	"github.com/keyfob/keyfob/ui/common"
)

// The endpoints say where keyfob calls the API when that is not the
// audience: the sandbox's (or a proxy's) API base, an owner account's
// Owner API; nothing more when the audience is where the calls go.
func TestEndpointsShowTheAPIBase(t *testing.T) {
	th, err := themes.Get(themes.Default)
	if err != nil {
		t.Fatal(err)
	}
	st := common.NewStyles(th, true, false)
	show := func(a accounts.Account) string {
		w := &writer{st: st, width: 120, labelW: 14}
		endpoints(w, &a)
		return ansi.Strip(w.b.String())
	}
	tesla := "https://fleet-api.prd.eu.vn.cloud.tesla.com"
	sandboxed := accounts.Account{Kind: accounts.KindFleet, Region: "eu", Audience: tesla,
		Endpoints: accounts.Endpoints{APIBaseURL: "http://127.0.0.1:8765/fleet-api/eu"}}
	if got := show(sandboxed); !strings.Contains(got, "API base       http://127.0.0.1:8765/fleet-api/eu") ||
		!strings.Contains(got, "Audience       "+tesla) {
		t.Errorf("sandbox account:\n%s", got)
	}
	if got := show(accounts.Account{Kind: accounts.KindFleet, Region: "eu", Audience: tesla}); strings.Contains(got, "API base") {
		t.Errorf("the audience is the API base, shown twice:\n%s", got)
	}
	if got := show(accounts.Account{Kind: accounts.KindOwner, Region: "na"}); !strings.Contains(got, "API base       https://owner-api.teslamotors.com") {
		t.Errorf("owner account:\n%s", got)
	}
}
