package keyfobtest

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/keyfob/keyfob/themes"
	"github.com/keyfob/keyfob/ui/common"
)

// Sizes are the terminal sizes every screen is checked at.
var Sizes = [][2]int{{80, 24}, {120, 40}}

// Common is what a part of the TUI shares with the root, for a part under
// test without one: a w×h terminal, the default theme on a dark
// background, the clock at Now in UTC, the root's default key names and
// the test's context. Manager, Logins and Jobs are the test's to set.
func Common(t testing.TB, w, h int) *common.Common {
	t.Helper()
	th, err := themes.Get(themes.Default)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &common.Common{
		Ctx: ctx, Styles: common.NewStyles(th, true, false), Width: w, Height: h,
		DialogTop: 1, DialogBottom: 1, Now: Now, Loc: time.UTC,
		Keys: common.KeyNames{New: "n", Import: "i", Refresh: "r", Revoke: "x", Remove: "d", Edit: "E"},
	}
}

// Golden compares the plain text of view (its colours stripped) with the
// test's golden file (testdata/<TestName>.golden; go test -update writes
// it), after checking what every screen of w×h must satisfy (see
// CheckScreen).
func Golden(t testing.TB, view string, w, h int) {
	t.Helper()
	out := ansi.Strip(view)
	CheckScreen(t, out, w, h)
	golden.RequireEqual(t, out)
}

// jwt is what a whole JWT looks like.
var jwt = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.`)

// CheckScreen fails the test when the plain text out does not fit a w×h
// terminal (more lines than h, a line wider than w) or shows a whole
// token: a JWT, or a token of the Fixtures.
func CheckScreen(t testing.TB, out string, w, h int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) > h {
		t.Errorf("%d lines on a %d-line terminal", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d cells wide on a %d-cell terminal: %q", i+1, n, w, l)
		}
	}
	if jwt.MatchString(out) {
		t.Errorf("the screen shows a whole JWT: %s", jwt.FindString(out))
	}
	for _, a := range Fixtures() {
		for _, tok := range []string{a.AccessToken, a.RefreshToken} {
			if tok != "" && strings.Contains(out, tok) {
				t.Errorf("the screen shows a whole token of %s", a.Name)
			}
		}
	}
}

// BoxText is the plain text of a dialog's box, its lines joined by spaces
// with the border and runs of spaces removed, so that wrapped sentences
// read whole.
func BoxText(view string) string {
	s := ansi.Strip(view)
	s = strings.NewReplacer("│", " ", "╭", " ", "╮", " ", "╰", " ", "╯", " ", "─", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// Jobs is a refresh scheduler's answer for tests of the parts that show
// it: the job of each account id, none for the others.
type Jobs map[string]common.Job

// Job implements common.Jobs.
func (j Jobs) Job(id string) common.Job { return j[id] }

var _ common.Jobs = Jobs(nil)
