package themes

import (
	"reflect"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
)

func TestNamesHasTheRequiredThemes(t *testing.T) {
	names := Names()
	if len(names) < 5 {
		t.Fatalf("Names() = %v; want at least 4 themes plus mono", names)
	}
	for _, want := range []string{Default, "high-contrast", "dracula", "solarized", "mono"} {
		if _, err := Get(want); err != nil {
			t.Errorf("Get(%q): %v", want, err)
		}
	}
	if names[0] != Default {
		t.Errorf("the first theme is %q; the default should come first", names[0])
	}
}

func TestGet(t *testing.T) {
	th, err := Get("")
	if err != nil || th.Name != Default {
		t.Fatalf(`Get("") = %q, %v; want the default`, th.Name, err)
	}
	th, err = Get("  Dracula ")
	if err != nil || th.Name != "dracula" {
		t.Fatalf(`Get("Dracula") = %q, %v`, th.Name, err)
	}
	_, err = Get("neon")
	if err == nil {
		t.Fatal(`Get("neon") succeeded`)
	}
	for _, n := range Names() {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("the error %q does not list %q", err, n)
		}
	}
}

func TestNextCycles(t *testing.T) {
	names := Names()
	cur := names[0]
	for i := 1; i <= len(names); i++ {
		cur = Next(cur).Name
		if want := names[i%len(names)]; cur != want {
			t.Fatalf("step %d: Next gave %q, want %q", i, cur, want)
		}
	}
	if Next("unknown").Name != names[0] {
		t.Error("Next of an unknown theme should be the first one")
	}
}

// Every colour of every theme is set, and the coloured themes differ
// between light and dark where it matters for legibility (text).
func TestPalettesAreComplete(t *testing.T) {
	for _, n := range Names() {
		th, _ := Get(n)
		for _, dark := range []bool{false, true} {
			c := reflect.ValueOf(th.Colors(dark))
			for i := range c.NumField() {
				if c.Field(i).IsNil() {
					t.Errorf("%s (dark=%v): %s is not set", n, dark, c.Type().Field(i).Name)
				}
			}
		}
		if th.Plain {
			if _, ok := th.Colors(true).Text.(lipgloss.NoColor); !ok {
				t.Errorf("%s is plain but sets a text colour", n)
			}
			continue
		}
		if th.Colors(true).Text == th.Colors(false).Text {
			t.Errorf("%s uses the same text colour on light and dark backgrounds", n)
		}
	}
}
