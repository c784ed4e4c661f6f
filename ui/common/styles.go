package common

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"github.com/keyfob/keyfob/themes"
	"github.com/keyfob/keyfob/ui/present"
)

// Styles are every style the UI renders with, built once from a theme and
// the terminal's background and rebuilt only when either changes.
type Styles struct {
	// Plain is set for themes without colour and for NO_COLOR: badges then
	// render as bare words and the selection as reverse video.
	Plain bool

	Title    lipgloss.Style // the "keyfob" wordmark
	Banner   lipgloss.Style // the one-line note under the header
	Text     lipgloss.Style
	Muted    lipgloss.Style
	Bold     lipgloss.Style
	Accent   lipgloss.Style
	Link     lipgloss.Style
	ColTitle lipgloss.Style // table column titles

	Marker   lipgloss.Style // "›" in front of the selected row
	Name     lipgloss.Style
	Email    lipgloss.Style
	Kind     lipgloss.Style
	Selected lipgloss.Style // applied over every cell of the selected row
	Badge    lipgloss.Style

	// Countdown colours by urgency.
	Fine, Warning, Critical, Expired, Unknown lipgloss.Style

	// Status colours.
	OK, Warn, Danger, Info lipgloss.Style

	Toast, ToastOK, ToastError lipgloss.Style

	Dialog       lipgloss.Style // the box of a modal
	DialogTitle  lipgloss.Style
	Button       lipgloss.Style
	ButtonActive lipgloss.Style
	ButtonDanger lipgloss.Style

	Label        lipgloss.Style // form labels
	LabelFocused lipgloss.Style
	Hint         lipgloss.Style
	ErrorText    lipgloss.Style
	Choice       lipgloss.Style // an option in a chooser
	ChoiceActive lipgloss.Style

	Section lipgloss.Style // detail view headings
	Key     lipgloss.Style // detail view labels

	Spinner  lipgloss.Style
	Backdrop lipgloss.Style // the screen behind a dialog
	Help     help.Styles
	// HintHelp renders the key hints at the foot of a dialog, all muted.
	HintHelp help.Styles
	Input    textinput.Styles
}

// NewStyles builds the styles of theme t for a dark or light background.
// plain forces the colourless rendering (NO_COLOR).
func NewStyles(t themes.Theme, isDark, plain bool) *Styles {
	plain = plain || t.Plain
	c := t.Colors(isDark)
	s := &Styles{Plain: plain}
	s.text(c)
	s.states(c)
	s.dialogs(c)
	s.helpAndInput(c, isDark)
	if plain {
		// Without colour, weight and reverse video carry the meaning.
		s.Backdrop = lipgloss.NewStyle().Faint(true)
		s.Selected = lipgloss.NewStyle().Reverse(true)
		s.Badge = lipgloss.NewStyle()
		s.ButtonActive = lipgloss.NewStyle().Reverse(true).Bold(true).Padding(0, 1)
		s.ButtonDanger = s.ButtonActive
		s.Critical = lipgloss.NewStyle().Bold(true)
		s.Expired = lipgloss.NewStyle().Bold(true)
		s.ToastError = lipgloss.NewStyle().Bold(true)
		s.Link = lipgloss.NewStyle().Underline(true)
	}
	return s
}

func fg(col color.Color) lipgloss.Style { return lipgloss.NewStyle().Foreground(col) }

// text sets the styles of plain text, the table and the detail page.
func (s *Styles) text(c themes.Colors) {
	s.Title = fg(c.Primary).Bold(true)
	s.Banner = fg(c.Info)
	s.Text = fg(c.Text)
	s.Muted = fg(c.Muted)
	s.Bold = fg(c.Text).Bold(true)
	s.Accent = fg(c.Secondary)
	s.Link = fg(c.Info).Underline(true)
	s.ColTitle = fg(c.Muted).Bold(true)

	s.Marker = fg(c.Primary).Bold(true)
	s.Name = fg(c.Text).Bold(true)
	s.Email = fg(c.Muted)
	s.Kind = fg(c.Text)
	s.Selected = lipgloss.NewStyle().Background(c.Selection).Foreground(c.OnSelect)
	s.Badge = lipgloss.NewStyle().Background(c.Badge).Foreground(c.BadgeText).Padding(0, 1)

	s.Section = fg(c.Primary).Bold(true)
	s.Key = fg(c.Muted)
	s.Spinner = fg(c.Info)
	s.Backdrop = fg(c.Subtle)
}

// states sets the colours of countdowns, statuses and toasts.
func (s *Styles) states(c themes.Colors) {
	s.Fine = fg(c.OK)
	s.Warning = fg(c.Warn)
	s.Critical = fg(c.Danger).Bold(true)
	s.Expired = fg(c.Danger)
	s.Unknown = fg(c.Muted)

	s.OK = fg(c.OK)
	s.Warn = fg(c.Warn)
	s.Danger = fg(c.Danger)
	s.Info = fg(c.Info)

	s.Toast = fg(c.Info)
	s.ToastOK = fg(c.OK)
	s.ToastError = fg(c.Danger).Bold(true)
}

// dialogs sets the styles of boxes, buttons and forms.
func (s *Styles) dialogs(c themes.Colors) {
	s.Dialog = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(c.Primary).Padding(0, 1)
	s.DialogTitle = fg(c.Primary).Bold(true)
	s.Button = fg(c.Muted).Padding(0, 1)
	s.ButtonActive = lipgloss.NewStyle().Background(c.Primary).Foreground(c.OnSelect).Bold(true).Padding(0, 1)
	s.ButtonDanger = lipgloss.NewStyle().Background(c.Danger).Foreground(c.OnSelect).Bold(true).Padding(0, 1)

	s.Label = fg(c.Muted)
	s.LabelFocused = fg(c.Primary).Bold(true)
	s.Hint = fg(c.Muted).Italic(true)
	s.ErrorText = fg(c.Danger)
	s.Choice = fg(c.Text)
	s.ChoiceActive = fg(c.Primary).Bold(true)
}

// helpAndInput sets the styles of the help lines and the text inputs.
func (s *Styles) helpAndInput(c themes.Colors, isDark bool) {
	s.Help = help.Styles{
		ShortKey:       fg(c.Primary),
		ShortDesc:      fg(c.Muted),
		ShortSeparator: fg(c.Subtle),
		Ellipsis:       fg(c.Subtle),
		FullKey:        fg(c.Primary).Bold(true),
		FullDesc:       fg(c.Text),
		FullSeparator:  fg(c.Subtle),
	}
	s.HintHelp = help.Styles{
		ShortKey: s.Muted, ShortDesc: s.Muted, ShortSeparator: s.Muted, Ellipsis: s.Muted,
		FullKey: s.Muted, FullDesc: s.Muted, FullSeparator: s.Muted,
	}

	s.Input = textinput.DefaultStyles(isDark)
	s.Input.Focused.Text = fg(c.Text)
	s.Input.Blurred.Text = fg(c.Muted)
	s.Input.Focused.Placeholder = fg(c.Muted).Italic(true)
	s.Input.Blurred.Placeholder = fg(c.Subtle).Italic(true)
	s.Input.Focused.Prompt = fg(c.Secondary)
	s.Input.Blurred.Prompt = fg(c.Muted)
	s.Input.Cursor.Blink = false
	if _, ok := c.Primary.(lipgloss.NoColor); !ok {
		s.Input.Cursor.Color = c.Primary
	}
}

// Tone is the style of a status or a notice of tone t.
func (s *Styles) Tone(t present.Tone) lipgloss.Style {
	switch t {
	case present.ToneOK:
		return s.OK
	case present.ToneWarn:
		return s.Warn
	case present.ToneDanger:
		return s.Danger
	case present.ToneBusy:
		return s.Info
	}
	return s.Muted
}

// Notice is the style of a notice of tone t above the footer.
func (s *Styles) Notice(t present.Tone) lipgloss.Style {
	switch t {
	case present.ToneDanger:
		return s.ToastError
	case present.ToneOK:
		return s.ToastOK
	case present.ToneBusy:
		return s.Toast
	}
	return s.Tone(t)
}

// Urgency is the style of a countdown of urgency u.
func (s *Styles) Urgency(u present.Urgency) lipgloss.Style {
	switch u {
	case present.UrgencyFine:
		return s.Fine
	case present.UrgencyWarning:
		return s.Warning
	case present.UrgencyCritical:
		return s.Critical
	case present.UrgencyExpired:
		return s.Expired
	}
	return s.Unknown
}
