package ui

import (
	"errors"
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// goldenCase builds a model in some state at a size.
type goldenCase struct {
	name  string
	setup func(t *testing.T, w, h int) *Model
	only  [][2]int // sizes; nil = keyfobtest.Sizes
}

func withKeys(accts []accounts.Account, keys ...string) func(*testing.T, int, int) *Model {
	return func(t *testing.T, w, h int) *Model {
		m := newViewModel(t, accts, w, h)
		press(m, keys...)
		return m
	}
}

// TestGolden checks the whole screens the root puts together: the header,
// the list or the detail page, the toast and the footer, and a dialog
// over them. Each part's own view has goldens in its package (ui/list,
// ui/detail, ui/dialog, ui/wizard).
func TestGolden(t *testing.T) {
	t.Parallel()
	cases := []goldenCase{
		{name: "main", setup: withKeys(keyfobtest.Fixtures())},
		{name: "main_narrow", setup: withKeys(keyfobtest.Fixtures()), only: [][2]int{{60, 16}, {40, 12}}},
		{name: "main_toast", setup: withKeys(keyfobtest.Fixtures(), "c"), only: [][2]int{{80, 24}}},
		{name: "main_plain", setup: func(t *testing.T, w, h int) *Model {
			m := newViewModel(t, keyfobtest.Fixtures(), w, h)
			m.SetNoColor(true)
			return m
		}, only: [][2]int{{80, 24}}},
		{name: "empty", setup: withKeys(nil)},
		{name: "load_error", setup: func(t *testing.T, w, h int) *Model {
			m := newViewModel(t, nil, w, h)
			m.Update(loadedMsg{err: &accounts.CorruptError{Path: "/home/user/.config/keyfob/accounts.json", Line: 3, Column: 14, Err: errors.New("invalid character '}' looking for beginning of value")}})
			return m
		}, only: [][2]int{{80, 24}}},
		{name: "detail", setup: withKeys(keyfobtest.Fixtures(), "enter")},
		{name: "help", setup: withKeys(keyfobtest.Fixtures(), "?")},
		{name: "help_detail", setup: withKeys(keyfobtest.Fixtures(), "enter", "?"), only: [][2]int{{80, 24}}},
		{name: "confirm_remove", setup: withKeys(keyfobtest.Fixtures(), "d"), only: [][2]int{{80, 24}}},
	}
	for _, c := range cases {
		only := c.only
		if only == nil {
			only = keyfobtest.Sizes
		}
		for _, sz := range only {
			t.Run(fmt.Sprintf("%s_%dx%d", c.name, sz[0], sz[1]), func(t *testing.T) {
				keyfobtest.Golden(t, c.setup(t, sz[0], sz[1]).View().Content, sz[0], sz[1])
			})
		}
	}
}

var _ tea.Model = (*Model)(nil)
