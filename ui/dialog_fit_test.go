package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// A dialog, however much it holds, sits between the header (and the
// banner) and the footer, which stay in view, with its title whole: the
// owner login's paste page, the longest, and help, at a roomy, a usual and
// a small terminal.
func TestDialogsKeepTheHeaderAndFooterInView(t *testing.T) {
	t.Parallel()
	for _, sz := range [][2]int{{120, 35}, {80, 24}, {60, 20}} {
		for _, tc := range []struct {
			name, title string
			open        func(t *testing.T, w, h int) *Model
		}{
			{"owner paste", "New login · owner · na", pasteStep},
			{"help", "keyfob — keys", withKeys(keyfobtest.Fixtures(), "?")},
			{"help under a banner", "keyfob — keys", func(t *testing.T, w, h int) *Model {
				m := newViewModel(t, keyfobtest.Fixtures(), w, h)
				m.banner = "demo · sandbox on 127.0.0.1:40009"
				m.layout()
				press(m, "?")
				return m
			}},
		} {
			t.Run(fmt.Sprintf("%s %dx%d", tc.name, sz[0], sz[1]), func(t *testing.T) {
				m := tc.open(t, sz[0], sz[1])
				lines := strings.Split(plain(m), "\n")
				top := 1
				if m.banner != "" {
					top = 2
					if !strings.Contains(lines[1], "demo · sandbox") {
						t.Errorf("the banner is hidden:\n%s", plain(m))
					}
				}
				if !strings.HasPrefix(lines[0], " keyfob") || !strings.Contains(lines[len(lines)-1], "quit") {
					t.Errorf("the header or the footer is hidden:\n%s", plain(m))
				}
				for _, l := range append(lines[:top:top], lines[len(lines)-1]) {
					if strings.ContainsAny(l, "╭│╰") {
						t.Errorf("the dialog covers the header or the footer:\n%s", plain(m))
					}
				}
				if !strings.Contains(plain(m), tc.title) {
					t.Errorf("the dialog's title %q is cut:\n%s", tc.title, plain(m))
				}
			})
		}
	}
}
