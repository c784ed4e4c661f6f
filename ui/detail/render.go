package detail

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
	"charm.land/lipgloss/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/list"
	"github.com/keyfob/keyfob/ui/present"
)

// writer lays out label/value lines with wrapped values. Every label and
// value is cleaned for the terminal: most come from the server.
type writer struct {
	b      strings.Builder
	st     *common.Styles
	now    time.Time
	loc    *time.Location
	width  int
	labelW int
	keys   common.KeyNames // keys the text names
}

func (w *writer) section(title string) {
	if w.b.Len() > 0 {
		w.b.WriteByte('\n')
	}
	w.b.WriteString(" ")
	w.b.WriteString(w.st.Section.Render(title))
	w.b.WriteByte('\n')
}

// kv writes a labelled value; style colours the value; long values wrap
// under the value column.
func (w *writer) kv(label, value string, style lipgloss.Style) {
	w.kvw(label, value, style, w.labelW)
}

// kvw is kv with a label column of labelW cells.
func (w *writer) kvw(label, value string, style lipgloss.Style, labelW int) {
	indent := 3 + labelW + 1
	vw := max(w.width-indent-1, 10)
	for i, line := range common.Wrap(present.Clean(value), vw) {
		if i == 0 {
			w.b.WriteString("   ")
			w.b.WriteString(w.st.Key.Render(common.Fit(present.OneLine(label), labelW)))
			w.b.WriteByte(' ')
		} else {
			w.b.WriteString(strings.Repeat(" ", indent))
		}
		w.b.WriteString(style.Render(line))
		w.b.WriteByte('\n')
	}
}

// text writes a wrapped paragraph, indented.
func (w *writer) text(s string, style lipgloss.Style) {
	for _, line := range common.Wrap(present.Clean(s), max(w.width-4, 10)) {
		w.b.WriteString("   ")
		w.b.WriteString(style.Render(line))
		w.b.WriteByte('\n')
	}
}

// when is an instant with how far it is from now.
func (w *writer) when(t time.Time) string { return present.When(t, w.now, w.loc) }

// page is what the detail page shows besides the account: its consumers
// of keyfob serve (removed with the key remove) and its app's domain for
// the pairing link (shown as a QR code with the key showQR).
type page struct {
	consumers []accounts.Consumer
	remove    key.Binding
	pairing   string
	showQR    key.Binding
}

// render renders everything known about the account of r.
func render(r *list.Row, c *common.Common, p page) string {
	w := &writer{st: c.Styles, now: c.Now, loc: c.Loc, width: c.Width, labelW: 14, keys: c.Keys}
	acct := r.Account()
	a := &acct
	account(w, a, r.Status(c.Now, c.JobOf(a.ID)), c.Frame)
	accessToken(w, a)
	refreshToken(w, a)
	consumers(w, p.consumers, p.remove)
	virtualKey(w, a, p.pairing, p.showQR)
	scopes(w, a)
	endpoints(w, a)
	if cl, ok := oauth.Inspect(a.AccessToken); ok {
		w.section("Access token claims (decoded, not verified)")
		claims(w, cl.Raw)
	}
	if cl, ok := oauth.Inspect(a.IDToken); ok {
		w.section("ID token claims (decoded, not verified)")
		claims(w, cl.Raw)
	}
	return strings.TrimRight(w.b.String(), "\n")
}

func account(w *writer, a *accounts.Account, status present.Status, spin string) {
	st := w.st
	word := status.String()
	if status == present.Refreshing() {
		word = spin + " " + word
	}
	w.section("Account")
	w.kv("Name", a.Name, st.Bold)
	w.kv("Email", cmp.Or(a.Email, "—"), st.Text)
	w.kv("Subject", cmp.Or(a.Subject, "—"), st.Text)
	kind := string(a.Kind) + " — " + present.KindTitle(a.Kind)
	if a.AuthCode != "" {
		kind = string(a.Kind) + " — Fleet API third-party business token (client credentials with a business's auth code)"
	}
	w.kv("Kind", kind, st.Text)
	if a.Kind == accounts.KindOwner {
		w.kv("", present.OwnerAPIClosing, st.Warning)
	}
	if a.Kind == accounts.KindCustom && a.Grant != "" {
		w.kv("Grant", a.Grant, st.Text)
	}
	w.kv("Region", cmp.Or(present.RegionTitle(a.Region), "—"), st.Text)
	w.kv("Client id", cmp.Or(a.ClientID, "—"), st.Text)
	if a.ClientSecret != "" {
		w.kv("Client secret", "set (hidden)", st.Muted)
	}
	if a.AuthCode != "" {
		w.kv("Auth code", "set (hidden) — the business's consent; new tokens come from it", st.Muted)
	}
	w.kv("Status", word, st.Tone(status.Tone))
	if a.StateDetail != "" && a.State != accounts.StateActive {
		w.kv("", a.StateDetail, st.Danger)
	}
	if a.State == accounts.StateLoginRequired {
		w.kv("", "Sign in again with "+w.keys.New+": the same login replaces this account's tokens and keeps its name.", st.Muted)
	}
	if !a.CreatedAt.IsZero() {
		w.kv("Added", w.when(a.CreatedAt), st.Text)
	}
}

func accessToken(w *writer, a *accounts.Account) {
	st := w.st
	w.section("Access token")
	if a.AccessToken == "" {
		w.kv("Token", "none", st.Muted)
	} else {
		w.kv("Preview", oauth.Mask(a.AccessToken), st.Text)
	}
	if !a.AccessObtainedAt.IsZero() {
		w.kv("Issued", w.when(a.AccessObtainedAt), st.Text)
	}
	if !a.Expiry.IsZero() {
		u := present.UrgencyOf(a.Expiry, w.now)
		left := "expired " + present.Approx(w.now.Sub(a.Expiry)) + " ago"
		if u != present.UrgencyExpired {
			left = present.Countdown(a.Expiry.Sub(w.now)) + " left"
		}
		w.kv("Expires", present.Stamp(a.Expiry, w.loc)+" · "+left, st.Urgency(u))
	} else if a.AccessToken != "" {
		w.kv("Expires", "unknown (the server did not say)", st.Muted)
	}
}

func refreshToken(w *writer, a *accounts.Account) {
	st := w.st
	w.section("Refresh token")
	switch {
	case a.RefreshToken != "":
		w.kv("Preview", oauth.Mask(a.RefreshToken), st.Text)
		if !a.RefreshObtainedAt.IsZero() {
			refreshEstimate(w, a)
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
		w.kv("Last refresh", w.when(lr.At)+" — "+res, style)
	} else {
		w.kv("Last refresh", "never", st.Muted)
	}
}

// refreshEstimate shows what is known of the refresh token (when keyfob
// got it), what is estimated (its end: Tesla's refresh tokens are opaque
// and live about 3 months), and what renews it (present.Renewal): a
// refresh, whose answer carries a new one, or, where the server kept it
// at the last refresh, only a new login.
func refreshEstimate(w *writer, a *accounts.Account) {
	st := w.st
	soon := a.RefreshExpiresSoon(w.now)
	style := st.Text
	if soon {
		style = st.Warning
	}
	w.kv("Obtained", w.when(a.RefreshObtainedAt), st.Text)
	w.kv("Expires ≈", w.when(a.RefreshExpiresAt())+" — estimated: obtained + 90 days", style)
	byLogin := present.Renewal(a) == present.RenewedByLogin
	switch {
	case soon && byLogin:
		w.kv("", "Ending soon, and refreshing does not renew it: the server kept it at the last refresh. Sign in again with "+
			w.keys.New+" before then — the same login (same kind, client and user) updates this account in place and keeps its name.", st.Warning)
	case soon:
		w.kv("", "Ending soon: refresh with "+w.keys.Refresh+" — the answer carries a new refresh token, good for about 3 more months. "+
			"If the server says a new login is needed, sign in again with "+w.keys.New+".", st.Warning)
	case byLogin:
		w.kv("Renewed by", "a new login only: the server kept this refresh token at the last refresh", st.Muted)
	default:
		w.kv("Renewed by", "each refresh: its answer carries a new refresh token, good for about 3 months", st.Muted)
	}
}

// consumers lists the programs that get the account's tokens from keyfob
// serve: name, last use and from where. The section is there only when
// there are some.
func consumers(w *writer, cs []accounts.Consumer, remove key.Binding) {
	if len(cs) == 0 {
		return
	}
	st := w.st
	w.section("Consumers (keyfob serve)")
	nameW := w.labelW
	for _, c := range cs {
		nameW = max(nameW, min(len(c.Name)+1, 24))
	}
	for _, c := range cs {
		used, style := "never used", st.Muted
		if !c.LastUsedAt.IsZero() {
			used, style = "last used "+present.Relative(c.LastUsedAt, w.now), st.Text
			if c.LastAddress != "" {
				used += " from " + c.LastAddress
			}
		}
		w.kvw(c.Name, used+" · added "+present.Relative(c.CreatedAt, w.now), style, nameW)
	}
	w.text(remove.Help().Key+" removes one: its credential stops working at once, the account stays.", st.Muted)
}

func scopes(w *writer, a *accounts.Account) {
	st := w.st
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
		w.kvw(s, present.ScopeLine(a.Kind, s), st.Text, scopeW)
	}
	if !granted {
		return
	}
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

func endpoints(w *writer, a *accounts.Account) {
	st := w.st
	w.section("Endpoints")
	e := a.Endpoints
	if e.AuthURL != "" || a.Kind == accounts.KindFleet || a.Kind == accounts.KindOwner {
		w.kv("Authorize", cmp.Or(e.AuthURL, "—"), st.Text)
	}
	if e.TokenURL != "" || a.Kind != accounts.KindLegacy {
		w.kv("Token", cmp.Or(e.TokenURL, "—"), st.Text)
	}
	if e.BaseURL != "" || a.Kind == accounts.KindLegacy {
		w.kv("Owner API", cmp.Or(e.BaseURL, "—"), st.Text)
	}
	if endpoint := oauth.RevokeEndpoint(*a); endpoint != "" {
		w.kv("Revoke", endpoint, st.Text)
	} else {
		w.kv("Revoke", "none — "+w.keys.Revoke+" only marks the account revoked here", st.Muted)
	}
	if e.UserInfoURL != "" {
		w.kv("User info", e.UserInfoURL, st.Text)
	}
	if e.RedirectURI != "" {
		w.kv("Redirect URI", e.RedirectURI, st.Text)
	} else if a.Kind == accounts.KindFleet || (a.Kind == accounts.KindCustom && a.Grant == accounts.GrantCode) {
		w.kv("Redirect URI", "http://127.0.0.1:<any port>/callback", st.Muted)
	}
	if a.Audience != "" {
		w.kv("Audience", a.Audience, st.Text)
	}
	if base := oauth.APIBase(*a); base != "" && base != strings.TrimRight(a.Audience, "/") && base != strings.TrimRight(e.BaseURL, "/") {
		// Where keyfob check and partner call, when it is not shown above:
		// the sandbox's, a proxy's, an owner account's Owner API.
		w.kv("API base", base, st.Text)
	}
}

// claims lists JWT claims in a stable order; times get a readable form
// beside the number.
func claims(w *writer, raw map[string]any) {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.kv(k, claimValue(k, raw[k], w), w.st.Text)
	}
}

func claimValue(k string, v any, w *writer) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		switch k {
		case "exp", "iat", "nbf", "auth_time", "updated_at":
			if v > 0 && v < math.MaxInt32*4 {
				return fmt.Sprintf("%d · %s", int64(v), w.when(time.Unix(int64(v), 0)))
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
