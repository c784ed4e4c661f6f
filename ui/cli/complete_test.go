package cli

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
)

// completions runs the shell's completion request for args and returns
// the values offered (without descriptions) and the directive.
func (e *env) completions(args ...string) ([]string, string) {
	e.t.Helper()
	r := e.mustRun("", append([]string{"__complete"}, args...)...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var values []string
	for _, l := range lines[:len(lines)-1] {
		values = append(values, strings.SplitN(l, "\t", 2)[0])
	}
	return values, lines[len(lines)-1]
}

// Every flag that takes a value completes something other than the
// shell's file names, except the flags that name a file: a closed set's
// values, account or consumer names, a directory, or nothing.
func TestEveryFlagCompletes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	var walk func(c *cobra.Command, path []string)
	checked := 0
	walk = func(c *cobra.Command, path []string) {
		if c.Hidden {
			return
		}
		c.LocalFlags().VisitAll(func(fl *pflag.Flag) {
			if fl.Value.Type() == "bool" || fl.Name == "help" {
				return
			}
			args := append(slices.Clone(path), "--"+fl.Name, "")
			_, directive := e.completions(args...)
			checked++
			switch {
			case slices.Contains(fileFlags, fl.Name):
				if directive != ":0" {
					t.Errorf("%q: directive %s, want the shell's file names (:0)", args, directive)
				}
			case fl.Name == "config-dir":
				if directive != ":16" {
					t.Errorf("%q: directive %s, want directories (:16)", args, directive)
				}
			case directive == ":0":
				t.Errorf("%q offers file names", args)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub, append(slices.Clone(path), sub.Name()))
		}
	}
	walk(NewCmdRoot(&Factory{IO: &IOStreams{}}), nil)
	if checked < 40 {
		t.Fatalf("only %d flags checked", checked)
	}
}

// The closed sets complete their values; --account completes account
// names (partner accounts for partner), serve remove its consumers.
func TestFlagValuesComplete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	partner := e.minted("a0000003", "p-eu", time.Hour)
	partner.Kind = accounts.KindPartner
	e.seed(e.minted("a0000001", "car", time.Hour), e.minted("a0000002", "cab", time.Hour), partner)
	e.mustRun("", "serve", "add", "teslamate", "--account", "car")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"login", "--kind", ""}, []string{"fleet", "owner", "partner", "legacy", "custom"}},
		{[]string{"import", "--kind", ""}, []string{"fleet", "owner", "legacy", "custom"}},
		{[]string{"login", "--region", ""}, []string{"na", "eu", "cn"}},
		{[]string{"edit", "car", "--region", ""}, []string{"na", "eu", "cn"}},
		{[]string{"login", "--grant", ""}, []string{"code", "password", "client_credentials"}},
		{[]string{"--theme", ""}, []string{"charm", "high-contrast", "dracula", "solarized", "mono"}},
		{[]string{"login", "--scopes", "openid,vehicle_c"}, []string{"openid,vehicle_cmds", "openid,vehicle_charging_cmds"}},
		{[]string{"serve", "add", "ha", "--account", ""}, []string{"car", "cab", "p-eu"}},
		{[]string{"partner", "register", "--account", ""}, []string{"p-eu"}},
		{[]string{"serve", "remove", ""}, []string{"teslamate"}},
		{[]string{"serve", "add", ""}, nil},
		{[]string{"login", "--client-id", ""}, nil},
	} {
		got, directive := e.completions(tc.args...)
		if !slices.Equal(got, tc.want) || directive == ":0" {
			t.Errorf("%q: %q (directive %s), want %q", tc.args, got, directive, tc.want)
		}
	}
}
