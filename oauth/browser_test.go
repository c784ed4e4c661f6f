package oauth

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBrowserCommand(t *testing.T) {
	u := "http://127.0.0.1/authorize?a=1&b=2"
	cases := []struct {
		entry string
		want  []string
	}{
		{"firefox", []string{"firefox", u}},
		{"  open -a Safari ", []string{"open", "-a", "Safari", u}},
		{"w3m %s --dump", []string{"w3m", u, "--dump"}},
		{"echo url=%s", []string{"echo", "url=" + u}},
		{"printf 100%%s", []string{"printf", "100%s", u}},
		{"   ", nil},
	}
	for _, tc := range cases {
		if got := browserCommand(tc.entry, u); !slices.Equal(got, tc.want) {
			t.Errorf("browserCommand(%q) = %q, want %q", tc.entry, got, tc.want)
		}
	}
}

// TestOpenBrowserUsesBrowserEnv runs a $BROWSER list whose first command
// does not exist and whose second records its arguments.
func TestOpenBrowserUsesBrowserEnv(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "argv")
	script := filepath.Join(dir, "browser.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > "+out+".tmp && mv "+out+".tmp "+out+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BROWSER", filepath.Join(dir, "no-such-browser")+string(os.PathListSeparator)+script+" --new-tab %s")
	u := "http://127.0.0.1:1/authorize?state=x&scope=a+b"
	if err := OpenBrowser(u); err != nil {
		t.Fatal(err)
	}
	// The browser runs on its own; wait for what it wrote (bounded, so a
	// broken run fails instead of hanging).
	var got []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(out); err == nil {
			got = b
			break
		}
	}
	if string(got) != "--new-tab\n"+u+"\n" {
		t.Fatalf("browser got %q", got)
	}
}

func TestOpenBrowserReportsWhenNothingStarts(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BROWSER", filepath.Join(dir, "a")+string(os.PathListSeparator)+filepath.Join(dir, "b"))
	// No system opener either: PATH holds nothing.
	t.Setenv("PATH", dir)
	err := OpenBrowser("http://127.0.0.1/x")
	if err == nil || !strings.Contains(err.Error(), "$BROWSER") {
		t.Fatalf("got %v", err)
	}
	// Without $BROWSER, the error names the openers that are missing,
	// once, in words.
	t.Setenv("BROWSER", "")
	err = OpenBrowser("http://127.0.0.1/x")
	if err == nil {
		t.Fatal("a browser opened with an empty PATH")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "no browser could be opened: ") || !strings.HasSuffix(msg, "installed, and $BROWSER is not set") ||
		strings.Count(msg, "could be opened") != 1 || strings.Contains(msg, "exec:") || strings.Contains(msg, `"`) {
		t.Fatalf("got %q", msg)
	}
}
