package ui

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// detailView is the scrollable page of one account.
type detailView struct {
	id string
	vp viewport.Model
}

func newDetailView(id string) detailView {
	vp := viewport.New()
	vp.MouseWheelEnabled = true
	vp.KeyMap = viewport.KeyMap{
		PageDown:     key.NewBinding(key.WithKeys("pgdown", "space", "ctrl+f")),
		PageUp:       key.NewBinding(key.WithKeys("pgup", "ctrl+b")),
		HalfPageUp:   key.NewBinding(key.WithKeys("ctrl+u")),
		HalfPageDown: key.NewBinding(key.WithKeys("ctrl+d")),
		Up:           key.NewBinding(key.WithKeys("up", "k")),
		Down:         key.NewBinding(key.WithKeys("down", "j")),
		Left:         key.NewBinding(key.WithDisabled()),
		Right:        key.NewBinding(key.WithDisabled()),
	}
	return detailView{id: id, vp: vp}
}

func (d *detailView) setSize(w, h int) {
	d.vp.SetWidth(w)
	d.vp.SetHeight(max(h, 1))
}

func (d *detailView) update(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "home", "g":
		d.vp.GotoTop()
		return nil
	case "end", "G":
		d.vp.GotoBottom()
		return nil
	}
	var cmd tea.Cmd
	d.vp, cmd = d.vp.Update(msg)
	return cmd
}

// detailHeight is the height of the detail page between header and footer.
func (m *Model) detailHeight() int {
	h := m.height - 4 // header, blank, toast, footer
	if m.banner != "" {
		h--
	}
	return max(h, 1)
}

// refreshDetail renders the detail page of the shown account again (its
// countdowns move every second), keeping the scroll position.
func (m *Model) refreshDetail() {
	r := m.rowByID(m.detail.id)
	if r == nil {
		return
	}
	off := m.detail.vp.YOffset()
	m.detail.vp.SetContent(renderDetail(r, m.st, m.now, m.loc, m.width, m.spin.View()))
	m.detail.vp.SetYOffset(off)
}

// detailWriter lays out label/value lines with wrapped values.
type detailWriter struct {
	b      strings.Builder
	st     *Styles
	width  int
	labelW int
}

func (w *detailWriter) section(title string) {
	if w.b.Len() > 0 {
		w.b.WriteByte('\n')
	}
	w.b.WriteString(" ")
	w.b.WriteString(w.st.Section.Render(title))
	w.b.WriteByte('\n')
}

// kv writes a labelled value; style colours the value; long values wrap
// under the value column.
func (w *detailWriter) kv(label, value string, style lipgloss.Style) {
	w.kvw(label, value, style, w.labelW)
}

// kvw is kv with a label column of labelW cells.
func (w *detailWriter) kvw(label, value string, style lipgloss.Style, labelW int) {
	indent := 3 + labelW + 1
	vw := max(w.width-indent-1, 10)
	lines := wrapText(value, vw)
	for i, line := range lines {
		if i == 0 {
			w.b.WriteString("   ")
			w.b.WriteString(w.st.Key.Render(fit(label, labelW)))
			w.b.WriteByte(' ')
		} else {
			w.b.WriteString(strings.Repeat(" ", indent))
		}
		w.b.WriteString(style.Render(line))
		w.b.WriteByte('\n')
	}
}

// text writes a wrapped paragraph, indented.
func (w *detailWriter) text(s string, style lipgloss.Style) {
	for _, line := range wrapText(s, max(w.width-4, 10)) {
		w.b.WriteString("   ")
		w.b.WriteString(style.Render(line))
		w.b.WriteByte('\n')
	}
}

// wrapText wraps plain text at word boundaries to width cells; words
// longer than a line (URLs, tokens) are broken after one of their
// separators, or cut.
func wrapText(s string, width int) []string {
	if s == "" {
		return []string{""}
	}
	if !strings.Contains(s, " ") && ansi.StringWidth(s) > width {
		// An address: break it after & or ?, never past the width.
		s = ansi.Wrap(s, width, "&?")
		return strings.Split(ansi.Hardwrap(s, width, true), "\n")
	}
	return strings.Split(ansi.Wrap(s, width, ""), "\n")
}

// renderDetail renders everything known about one account.
func renderDetail(r *row, st *Styles, now time.Time, loc *time.Location, width int, spin string) string {
	a := r.acct
	w := &detailWriter{st: st, width: width, labelW: 14}
	text := st.Text

	status, sk := statusOf(r, now)
	if r.busy {
		status = spin + " " + status
	}

	w.section("Account")
	w.kv("Name", a.Name, st.Bold)
	w.kv("Email", cmp.Or(a.Email, "—"), text)
	w.kv("Subject", cmp.Or(a.Subject, "—"), text)
	w.kv("Kind", string(a.Kind)+" — "+kindTitle(a.Kind), text)
	if a.Kind == accounts.KindCustom && a.Grant != "" {
		w.kv("Grant", a.Grant, text)
	}
	w.kv("Region", cmp.Or(regionTitle(a.Region), "—"), text)
	w.kv("Client id", cmp.Or(a.ClientID, "—"), text)
	if a.ClientSecret != "" {
		w.kv("Client secret", "set (hidden)", st.Muted)
	}
	w.kv("Status", status, st.status(sk))
	if a.StateDetail != "" && a.State != accounts.StateActive {
		w.kv("", a.StateDetail, st.Danger)
	}
	if a.State == accounts.StateLoginRequired {
		w.kv("", "Sign in again with n: the same login replaces this account's tokens and keeps its name.", st.Muted)
	}
	if !a.CreatedAt.IsZero() {
		w.kv("Added", when(a.CreatedAt, now, loc), text)
	}

	w.section("Access token")
	if a.AccessToken == "" {
		w.kv("Token", "none", st.Muted)
	} else {
		w.kv("Preview", oauth.Mask(a.AccessToken), text)
	}
	if !a.AccessObtainedAt.IsZero() {
		w.kv("Issued", when(a.AccessObtainedAt, now, loc), text)
	}
	if !a.Expiry.IsZero() {
		u := urgencyOf(a.Expiry, now)
		left := "expired " + approx(now.Sub(a.Expiry)) + " ago"
		if u != urgencyExpired {
			left = countdown(a.Expiry.Sub(now)) + " left"
		}
		w.kv("Expires", stamp(a.Expiry, loc)+" · "+left, st.urgency(u))
	} else if a.AccessToken != "" {
		w.kv("Expires", "unknown (the server did not say)", st.Muted)
	}

	w.section("Refresh token")
	switch {
	case a.RefreshToken != "":
		w.kv("Preview", oauth.Mask(a.RefreshToken), text)
		if !a.RefreshObtainedAt.IsZero() {
			w.kv("Obtained", when(a.RefreshObtainedAt, now, loc), text)
			exp := a.RefreshExpiresAt()
			style := text
			if exp.Sub(now) < 7*24*time.Hour {
				style = st.Warning
			}
			w.kv("Expires ≈", when(exp, now, loc)+" — estimated: obtained + 90 days", style)
		}
	case a.UsesClientCredentials():
		w.kv("Token", "none — this kind gets new tokens from its client credentials", st.Muted)
	default:
		w.kv("Token", "none — sign in again to get one", st.Muted)
	}
	if lr := a.LastRefresh; lr != nil {
		res, style := "ok", st.OK
		if !lr.OK {
			res, style = "failed: "+lr.Error, st.Danger
		}
		w.kv("Last refresh", when(lr.At, now, loc)+" — "+res, style)
	} else {
		w.kv("Last refresh", "never", st.Muted)
	}

	scopes, granted := a.Scopes(), len(a.GrantedScopes) > 0
	title := "Scopes"
	switch {
	case granted:
		title = "Scopes granted"
	case len(scopes) > 0:
		title = "Scopes requested (the server has not confirmed them)"
	}
	w.section(title)
	if len(scopes) == 0 {
		w.text("none known", st.Muted)
	}
	scopeW := w.labelW
	for _, s := range scopes {
		scopeW = max(scopeW, min(len(s)+1, 24))
	}
	for _, s := range scopes {
		info := describeScope(s)
		w.kvw(s, info.Title+" — "+info.Desc, text, scopeW)
	}
	if granted {
		var dropped []string
		for _, s := range a.RequestedScopes {
			if !slices.Contains(a.GrantedScopes, s) {
				dropped = append(dropped, s)
			}
		}
		if len(dropped) > 0 {
			w.text("Requested but not granted: "+strings.Join(dropped, ", ")+". Check the app's scopes on the developer site and sign in again.", st.Warning)
		}
	}

	w.section("Endpoints")
	e := a.Endpoints
	if e.AuthURL != "" || a.Kind == accounts.KindFleet || a.Kind == accounts.KindOwner {
		w.kv("Authorize", cmp.Or(e.AuthURL, "—"), text)
	}
	if e.TokenURL != "" || a.Kind != accounts.KindLegacy {
		w.kv("Token", cmp.Or(e.TokenURL, "—"), text)
	}
	if e.BaseURL != "" || a.Kind == accounts.KindLegacy {
		w.kv("Owner API", cmp.Or(e.BaseURL, "—"), text)
	}
	if endpoint := oauth.RevokeEndpoint(a); endpoint != "" {
		w.kv("Revoke", endpoint, text)
	} else {
		w.kv("Revoke", "none — x only marks the account revoked here", st.Muted)
	}
	if e.UserInfoURL != "" {
		w.kv("User info", e.UserInfoURL, text)
	}
	if e.RedirectURI != "" {
		w.kv("Redirect URI", e.RedirectURI, text)
	} else if a.Kind == accounts.KindFleet || (a.Kind == accounts.KindCustom && a.Grant == accounts.GrantCode) {
		w.kv("Redirect URI", "http://127.0.0.1:<any port>/callback", st.Muted)
	}
	if a.Audience != "" {
		w.kv("Audience", a.Audience, text)
	}

	if c, ok := oauth.Inspect(a.AccessToken); ok {
		w.section("Access token claims (decoded, not verified)")
		writeClaims(w, c.Raw, now, loc)
	}
	if c, ok := oauth.Inspect(a.IDToken); ok {
		w.section("ID token claims (decoded, not verified)")
		writeClaims(w, c.Raw, now, loc)
	}
	return strings.TrimRight(w.b.String(), "\n")
}

// writeClaims lists JWT claims in a stable order; times get a readable
// form beside the number.
func writeClaims(w *detailWriter, raw map[string]any, now time.Time, loc *time.Location) {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.kv(k, claimValue(k, raw[k], now, loc), w.st.Text)
	}
}

func claimValue(k string, v any, now time.Time, loc *time.Location) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		switch k {
		case "exp", "iat", "nbf", "auth_time", "updated_at":
			if v > 0 && v < math.MaxInt32*4 {
				t := time.Unix(int64(v), 0)
				return fmt.Sprintf("%d · %s", int64(v), when(t, now, loc))
			}
		}
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return fmt.Sprintf("%d", int64(v))
		}
		return fmt.Sprint(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			if s, ok := e.(string); ok {
				parts[i] = s
			} else {
				b, _ := json.Marshal(e)
				parts[i] = string(b)
			}
		}
		return strings.Join(parts, ", ")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func when(t, now time.Time, loc *time.Location) string {
	return stamp(t, loc) + " · " + relative(t, now)
}

// kindTitle says what a kind is.
func kindTitle(k accounts.Kind) string {
	switch k {
	case accounts.KindFleet:
		return "Fleet API third-party token"
	case accounts.KindOwner:
		return "Owner API token via Tesla SSO"
	case accounts.KindPartner:
		return "Fleet API partner token"
	case accounts.KindLegacy:
		return "retired owner-api password grant"
	case accounts.KindCustom:
		return "custom OAuth 2 server"
	}
	return string(k)
}

// regionTitle names a region.
func regionTitle(r string) string {
	switch r {
	case "na":
		return "na — North America, Asia-Pacific"
	case "eu":
		return "eu — Europe, Middle East, Africa"
	case "cn":
		return "cn — China"
	}
	return r
}
