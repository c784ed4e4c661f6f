package dialog

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// Settings are what the help screen says of the settings in force.
type Settings struct {
	AutoRefresh bool
	Margin      time.Duration // how long before expiry auto-refresh acts
	BackoffMax  time.Duration // the longest wait after failed refreshes
	Theme       string
	ClearAfter  time.Duration // when a copied token leaves the clipboard; 0 = never
}

// Help is the `?` screen: every key of the screen beneath, what the states
// mean, and the settings.
type Help struct {
	c        *common.Common
	keys     HelpKeyMap
	groups   [][]key.Binding
	settings Settings
}

// NewHelp opens the help screen of the keys in groups (one column each).
func NewHelp(c *common.Common, groups [][]key.Binding, s Settings) *Help {
	return &Help{c: c, keys: DefaultHelpKeyMap(), groups: groups, settings: s}
}

// Update implements Dialog.
func (h *Help) Update(msg tea.Msg) (common.Action, tea.Cmd) {
	if kp, ok := msg.(tea.KeyPressMsg); ok && key.Matches(kp, h.keys.Close) {
		return Close{}, nil
	}
	return nil, nil
}

// View implements Dialog. On short terminals the notes give way to the
// keys.
func (h *Help) View() string {
	st := h.c.Styles
	w := h.c.BoxWidth(84)
	inner := w - st.Dialog.GetHorizontalFrameSize()
	keys := common.FullHelp(st, h.groups, inner)
	hint := h.keys.ShortHelp()
	legend := strings.Join(h.legend(), "\n")
	const title = "keyfob — keys"
	box := common.Box(st, w, title, keys+"\n\n"+legend+"\n\n"+h.notes(inner), hint...)
	if lipgloss.Height(box) > h.c.DialogHeight() {
		box = common.Box(st, w, title, keys+"\n\n"+legend, hint...)
	}
	if lipgloss.Height(box) > h.c.DialogHeight() {
		box = common.Box(st, w, title, keys, hint...)
	}
	return box
}

// legend says what the statuses and the countdown colours mean.
func (h *Help) legend() []string {
	st := h.c.Styles
	return []string{
		st.OK.Render("✓ valid") + "  " + st.Warn.Render("! expiring (< 1 h), refresh failed or refresh ending") + "  " + st.Danger.Render("✗ expired"),
		st.Info.Render(h.c.Frame+" refreshing") + "  " + st.Muted.Render("⊘ revoked") + "  " + st.Danger.Render("⊗ login required") + "  " + st.Danger.Render("✗ error"),
		"Countdown: " + st.Fine.Render("more than 1 h") + " · " + st.Warning.Render("under 1 h") + " · " +
			st.Critical.Render("under 10 min") + " · " + st.Expired.Render("expired"),
	}
}

// notes say what the settings are.
func (h *Help) notes(width int) string {
	s := h.settings
	auto := "off"
	if s.AutoRefresh {
		auto = fmt.Sprintf("on — tokens are refreshed %s before they expire; failures back off up to %s", present.Approx(s.Margin), present.Approx(s.BackoffMax))
	}
	clear := "never (clipboard clearing is off)"
	if s.ClearAfter > 0 {
		clear = present.Delay(s.ClearAfter)
	}
	k := h.c.Keys
	return common.Paragraphs(h.c.Styles.Muted, width,
		"Auto-refresh is "+auto+". Accounts that need a new login are never retried on their own.",
		fmt.Sprintf("Refresh ending: the refresh token is within 7 days of its estimated end (obtained + 90 days). A refresh (%s) renews it; "+
			"where the server kept it at the last refresh, sign in again (%s).", k.Refresh, k.New),
		fmt.Sprintf("Theme: %s. Copied tokens leave the clipboard after %s if it still holds them.", s.Theme, clear))
}
