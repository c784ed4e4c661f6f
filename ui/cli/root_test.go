package cli

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/oauth/sandbox"
)

// TestManPage: fang's man page is on and is roff. fang writes it to the
// process's stdout, so the test catches that.
func TestManPage(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	res := e.run("", "man")
	os.Stdout = stdout
	w.Close()
	page, _ := io.ReadAll(r)
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{".TH KEYFOB 1", ".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", `\fB--config-dir\fP`, "token", "--min-valid", "import",
		// the description's sentences whole, not cut into a paragraph per source line
		"(Fleet API, Owner API, partner and legacy tokens) in one place: it logs in,"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("man page lacks %q", want)
		}
	}
	if strings.Contains(string(page), "clipboard-clear") {
		t.Error("the man page shows the hidden clipboard-clear")
	}
}

// TestCompleteAccountNames: every command that takes NAME completes the
// names of the accounts in the store.
func TestCompleteAccountNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	car := e.minted("a0000001", "car", time.Hour)
	car.Email = "driver@example.com"
	e.seed(car, e.minted("a0000002", "cab", time.Hour), e.minted("a0000003", "truck", time.Hour))
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "token", ""}, []string{"car\tfleet/na · driver@example.com", "cab\tfleet/na", "truck\tfleet/na"}},
		{[]string{"__complete", "token", "c"}, []string{"car\t", "cab\t"}},
		{[]string{"__complete", "refresh", "car", ""}, []string{"cab\t", "truck\t"}},
		{[]string{"__complete", "revoke", "T"}, []string{"truck\t"}},
		{[]string{"__complete", "remove", ""}, []string{"car\t", "cab\t", "truck\t"}},
		{[]string{"__complete", "rm", "ca"}, []string{"car\t", "cab\t"}},
		{[]string{"__complete", "token", "car", ""}, nil},
		{[]string{"__completeNoDesc", "token", ""}, []string{"car\n", "cab\n", "truck\n"}},
	} {
		r := e.mustRun("", tc.args...)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if last := lines[len(lines)-1]; last != ":4" { // ShellCompDirectiveNoFileComp
			t.Errorf("%v: directive %q", tc.args, last)
		}
		if len(lines)-1 != len(tc.want) {
			t.Errorf("%v: %d completions, want %d: %q", tc.args, len(lines)-1, len(tc.want), r.stdout)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%v: no %q in %q", tc.args, w, r.stdout)
			}
		}
	}
}
