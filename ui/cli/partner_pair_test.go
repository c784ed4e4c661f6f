package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/present"
)

func TestPartnerPair(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	r := e.mustRun("", "partner", "pair", "--domain", "App.Example.com")
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	want, _ := present.QR("https://tesla.com/_ak/app.example.com", 4)
	if lines[0] != "https://tesla.com/_ak/app.example.com" || len(lines) != 2+len(want) {
		t.Fatalf("stdout:\n%s", r.stdout)
	}
	for i, l := range want {
		if lines[2+i] != "  "+l {
			t.Fatalf("line %d of the code: %q", i, lines[2+i])
		}
	}
	if strings.Contains(r.stdout, "\x1b") || !strings.Contains(r.stderr, "Tesla app") {
		t.Fatalf("not a terminal: no colour expected; stderr %s", r.stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"partner", "pair"}, "--domain is required"},
		{[]string{"partner", "pair", "--domain", "https://app.example.com/"}, "is not a domain"},
	} {
		if r := e.run("", tc.args...); r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: %d %s", tc.args, r.code, r.stderr)
		}
	}
	// The one domain keyfob knows stands in for --domain.
	if _, err := (fleetapp.Apps{Dir: e.storeDir()}).Registered(context.Background(), "app-id", "car.example.net", "na"); err != nil {
		t.Fatal(err)
	}
	if r := e.mustRun("", "partner", "pair"); !strings.HasPrefix(r.stdout, "https://tesla.com/_ak/car.example.net\n") {
		t.Fatalf("known domain: %s", r.stdout)
	}
}
