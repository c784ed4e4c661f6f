// Package themes holds keyfob's named colour themes. A theme is a semantic
// palette — what a colour means (primary, ok, warn, danger, badge, …), not
// where it is used — given as light/dark pairs, so one theme reads well on
// both kinds of terminal background. The ui package turns a palette into
// Lip Gloss styles once the terminal has said whether it is dark.
//
// Colour is decoration only: every state the UI shows also reads as a word
// or a symbol, so the "mono" theme and NO_COLOR lose nothing.
package themes

import (
	"fmt"
	"image/color"
	"strings"

	"charm.land/lipgloss/v2"
)

// Default is the theme used when none is chosen: it adapts to light and
// dark backgrounds.
const Default = "charm"

// Pair is one semantic colour for light and for dark backgrounds.
type Pair struct {
	Light color.Color
	Dark  color.Color
}

// Pick returns the colour for the background.
func (p Pair) Pick(isDark bool) color.Color {
	if isDark {
		return p.Dark
	}
	return p.Light
}

// pair builds a Pair from two hex colours.
func pair(light, dark string) Pair {
	return Pair{Light: lipgloss.Color(light), Dark: lipgloss.Color(dark)}
}

// same is a Pair that does not depend on the background.
func same(c string) Pair { return pair(c, c) }

// none is a Pair that leaves the terminal's own colour alone.
var none = Pair{Light: lipgloss.NoColor{}, Dark: lipgloss.NoColor{}}

// Palette is a theme's semantic colours.
type Palette struct {
	Primary   Pair // titles, the selection marker, key names in help
	Secondary Pair // accents: the filter prompt, links
	Text      Pair // ordinary text
	Muted     Pair // secondary text: emails, descriptions, help
	Subtle    Pair // rules, borders, separators
	OK        Pair // valid tokens, success
	Warn      Pair // tokens expiring within the hour
	Danger    Pair // expired, critical, errors, destructive actions
	Info      Pair // refreshing, notices
	Badge     Pair // scope badge background
	BadgeText Pair // scope badge text
	Selection Pair // background of the selected row
	OnSelect  Pair // text on the selected row
}

// Colors is a palette resolved for one background.
type Colors struct {
	Primary, Secondary, Text, Muted, Subtle color.Color
	OK, Warn, Danger, Info                  color.Color
	Badge, BadgeText, Selection, OnSelect   color.Color
}

// Theme is a named palette.
type Theme struct {
	Name        string
	Description string
	// Plain themes use no colour at all; the UI marks emphasis and the
	// selection with bold, underline and reverse video instead.
	Plain   bool
	Palette Palette
}

// Colors resolves the theme's palette for a dark or light background.
func (t Theme) Colors(isDark bool) Colors {
	p := t.Palette
	return Colors{
		Primary:   p.Primary.Pick(isDark),
		Secondary: p.Secondary.Pick(isDark),
		Text:      p.Text.Pick(isDark),
		Muted:     p.Muted.Pick(isDark),
		Subtle:    p.Subtle.Pick(isDark),
		OK:        p.OK.Pick(isDark),
		Warn:      p.Warn.Pick(isDark),
		Danger:    p.Danger.Pick(isDark),
		Info:      p.Info.Pick(isDark),
		Badge:     p.Badge.Pick(isDark),
		BadgeText: p.BadgeText.Pick(isDark),
		Selection: p.Selection.Pick(isDark),
		OnSelect:  p.OnSelect.Pick(isDark),
	}
}

// builtin lists the themes in the order `t` cycles through them.
var builtin = []Theme{
	{
		Name:        "charm",
		Description: "the default; adapts to light and dark terminals",
		Palette: Palette{
			Primary:   pair("#5A56E0", "#8B87FF"),
			Secondary: pair("#B5197F", "#FF7AD9"),
			Text:      pair("#1E1D2B", "#ECEAF5"),
			Muted:     pair("#66647A", "#9F9DB3"),
			Subtle:    pair("#C9C6DA", "#454357"),
			OK:        pair("#0B7A3E", "#5BE3A0"),
			Warn:      pair("#995400", "#F7C35F"),
			Danger:    pair("#C11F3A", "#FF6F87"),
			Info:      pair("#0A5FA3", "#72CCFF"),
			Badge:     pair("#E7E4F8", "#34314D"),
			BadgeText: pair("#3C3890", "#CFCBFF"),
			Selection: pair("#E3E0FB", "#2E2B48"),
			OnSelect:  pair("#1E1D2B", "#FFFFFF"),
		},
	},
	{
		Name:        "high-contrast",
		Description: "black and white with saturated state colours",
		Palette: Palette{
			Primary:   pair("#0000C8", "#66B3FF"),
			Secondary: pair("#8A008A", "#FF66FF"),
			Text:      pair("#000000", "#FFFFFF"),
			Muted:     pair("#202020", "#E0E0E0"),
			Subtle:    pair("#000000", "#FFFFFF"),
			OK:        pair("#006400", "#00FF5F"),
			Warn:      pair("#7A4A00", "#FFFF00"),
			Danger:    pair("#B00000", "#FF4040"),
			Info:      pair("#00008B", "#00FFFF"),
			Badge:     pair("#000000", "#FFFFFF"),
			BadgeText: pair("#FFFFFF", "#000000"),
			Selection: pair("#000000", "#FFFFFF"),
			OnSelect:  pair("#FFFFFF", "#000000"),
		},
	},
	{
		Name:        "dracula",
		Description: "Dracula on dark backgrounds, Alucard on light ones",
		Palette: Palette{
			Primary:   pair("#644AC9", "#BD93F9"),
			Secondary: pair("#A3144D", "#FF79C6"),
			Text:      pair("#1F1F1F", "#F8F8F2"),
			Muted:     pair("#635D97", "#8A95C4"),
			Subtle:    pair("#CFCFDE", "#44475A"),
			OK:        pair("#14710A", "#50FA7B"),
			Warn:      pair("#846E15", "#F1FA8C"),
			Danger:    pair("#CB3A2A", "#FF5555"),
			Info:      pair("#036A96", "#8BE9FD"),
			Badge:     pair("#E4E2F2", "#44475A"),
			BadgeText: pair("#644AC9", "#BD93F9"),
			Selection: pair("#DCD9F0", "#44475A"),
			OnSelect:  pair("#1F1F1F", "#F8F8F2"),
		},
	},
	{
		Name:        "solarized",
		Description: "Solarized light or dark, following the terminal",
		Palette: Palette{
			Primary:   same("#268BD2"),
			Secondary: same("#D33682"),
			Text:      pair("#586E75", "#93A1A1"),
			Muted:     pair("#839496", "#657B83"),
			Subtle:    pair("#EEE8D5", "#073642"),
			OK:        same("#859900"),
			Warn:      same("#B58900"),
			Danger:    same("#DC322F"),
			Info:      same("#2AA198"),
			Badge:     pair("#EEE8D5", "#073642"),
			BadgeText: pair("#657B83", "#93A1A1"),
			Selection: pair("#EEE8D5", "#073642"),
			OnSelect:  pair("#073642", "#FDF6E3"),
		},
	},
	{
		Name:        "mono",
		Description: "no colour: bold, underline and reverse video only",
		Plain:       true,
		Palette: Palette{
			Primary: none, Secondary: none, Text: none, Muted: none, Subtle: none,
			OK: none, Warn: none, Danger: none, Info: none,
			Badge: none, BadgeText: none, Selection: none, OnSelect: none,
		},
	},
}

// Names lists the built-in themes in cycling order.
func Names() []string {
	out := make([]string, len(builtin))
	for i, t := range builtin {
		out[i] = t.Name
	}
	return out
}

// Get returns the theme called name (case-insensitive); "" is Default.
func Get(name string) (Theme, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = Default
	}
	for _, t := range builtin {
		if strings.EqualFold(t.Name, name) {
			return t, nil
		}
	}
	return Theme{}, fmt.Errorf("there is no theme called %q; choose one of %s", name, strings.Join(Names(), ", "))
}

// Next returns the theme after name in cycling order, wrapping around; an
// unknown name gives the first theme.
func Next(name string) Theme {
	for i, t := range builtin {
		if strings.EqualFold(t.Name, name) {
			return builtin[(i+1)%len(builtin)]
		}
	}
	return builtin[0]
}
