package ui

import (
	"cmp"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
)

// colID names a column of the account list.
type colID int

const (
	colName colID = iota
	colEmail
	colKind
	colExpires
	colScopes
	colStatus
	numCols
)

// Column titles and widths. Ideal widths are what a column grows to before
// the leftover space goes to the scopes.
var colSpecs = [numCols]struct {
	title      string
	min, ideal int
}{
	colName:    {"NAME", 10, 16},
	colEmail:   {"EMAIL", 18, 26},
	colKind:    {"KIND", 10, 10},
	colExpires: {"EXPIRES IN", 11, 11},
	colScopes:  {"SCOPES", 14, 20},
	colStatus:  {"STATUS", 12, 16},
}

// colPriority is the order in which columns claim space; on a narrow
// terminal the last ones are dropped first.
var colPriority = [numCols]colID{colName, colExpires, colStatus, colKind, colScopes, colEmail}

const (
	markerWidth = 2 // "› " in front of the selected row
	colGap      = 2
)

// layout is the width of each column for one terminal width; 0 = hidden.
type layout struct {
	width int
	w     [numCols]int
}

// computeLayout fits the columns into width: every column that fits at its
// minimum is shown (by priority), shown columns grow to their ideal width by
// priority, and what is left widens the scopes (or the name when the scopes
// are hidden).
func computeLayout(width int) layout {
	l := layout{width: width}
	used := markerWidth
	for _, id := range colPriority {
		need := colSpecs[id].min
		if used > markerWidth {
			need += colGap
		}
		if used+need > width {
			continue
		}
		l.w[id] = colSpecs[id].min
		used += need
	}
	if l.w[colName] == 0 {
		// Too narrow for anything: the name alone, cut to fit.
		l.w[colName] = max(width-markerWidth, 1)
		return l
	}
	for _, id := range colPriority {
		if l.w[id] == 0 {
			continue
		}
		grow := min(colSpecs[id].ideal-l.w[id], width-used)
		if grow > 0 {
			l.w[id] += grow
			used += grow
		}
	}
	if left := width - used; left > 0 {
		if l.w[colScopes] > 0 {
			l.w[colScopes] += left
		} else {
			l.w[colName] += left
		}
	}
	return l
}

// row is one account in the list, with what the UI knows beyond the store
// and the parts of its rendering that do not change every second.
type row struct {
	acct   accounts.Account
	kind   string   // "fleet/na"
	badges []string // short scope labels, most useful first
	search string   // lower-case text the filter matches

	// Transient state, kept across reloads.
	busy     bool      // a refresh is in flight
	queued   bool      // waiting for a refresh slot
	failures int       // consecutive auto-refresh failures
	retryAt  time.Time // no auto-refresh before this (back-off)

	// Render cache of the columns that do not tick, valid for cacheGen.
	cacheGen uint64
	pre      string // name, email and kind cells with their gaps
	scopes   string // the scopes cell
}

// newRow prepares an account for the list.
func newRow(a accounts.Account) *row {
	r := &row{acct: a}
	r.refreshDerived()
	return r
}

// refreshDerived recomputes what is derived from the account and drops the
// render cache.
func (r *row) refreshDerived() {
	a := &r.acct
	r.kind = string(a.Kind)
	if a.Region != "" {
		r.kind += "/" + a.Region
	}
	scopes := badgeOrder(a.Scopes())
	r.badges = make([]string, len(scopes))
	var sb strings.Builder
	sb.WriteString(strings.ToLower(a.Name))
	sb.WriteByte(' ')
	sb.WriteString(strings.ToLower(a.Email))
	sb.WriteByte(' ')
	sb.WriteString(r.kind)
	for i, s := range scopes {
		r.badges[i] = describeScope(s).Short
		sb.WriteByte(' ')
		sb.WriteString(strings.ToLower(s))
		sb.WriteByte(' ')
		sb.WriteString(r.badges[i])
	}
	r.search = sb.String()
	r.cacheGen = 0
}

// matches reports whether the row matches every word of a lower-case
// filter.
func (r *row) matches(filter string) bool {
	for _, w := range strings.Fields(filter) {
		if !strings.Contains(r.search, w) {
			return false
		}
	}
	return true
}

// statusOf is the status word of a row, with its symbol: every state reads
// without colour.
func statusOf(r *row, now time.Time) (text string, st statusKind) {
	if r.busy {
		return "refreshing", statusBusy
	}
	if r.queued {
		return "… queued", statusBusy
	}
	h := r.acct.Health(now)
	if why := r.acct.RefreshFailed(); why != "" && (h == accounts.HealthValid || h == accounts.HealthExpiring) {
		// The token still works, but the last refresh failed.
		return "! refresh failed: " + oneLine(why), statusWarn
	}
	switch h {
	case accounts.HealthValid:
		return "✓ valid", statusOK
	case accounts.HealthExpiring:
		return "! expiring", statusWarn
	case accounts.HealthExpired:
		return "✗ expired", statusDanger
	case accounts.HealthRevoked:
		return "⊘ revoked", statusMuted
	case accounts.HealthLoginRequired:
		return "⊗ login required", statusDanger
	case accounts.HealthError:
		if d := r.acct.StateDetail; d != "" {
			return "✗ error: " + oneLine(d), statusDanger
		}
		return "✗ error", statusDanger
	}
	return string(r.acct.Health(now)), statusMuted
}

// statusKind picks the colour of a status.
type statusKind int

const (
	statusOK statusKind = iota
	statusWarn
	statusDanger
	statusMuted
	statusBusy
)

func (s *Styles) status(k statusKind) lipgloss.Style {
	switch k {
	case statusOK:
		return s.OK
	case statusWarn:
		return s.Warn
	case statusDanger:
		return s.Danger
	case statusBusy:
		return s.Info
	}
	return s.Muted
}

func (s *Styles) urgency(u urgency) lipgloss.Style {
	switch u {
	case urgencyFine:
		return s.Fine
	case urgencyWarning:
		return s.Warning
	case urgencyCritical:
		return s.Critical
	case urgencyExpired:
		return s.Expired
	}
	return s.Unknown
}

// listView renders the account table into exactly height lines of width
// l.width: column titles, then the visible rows from offset.
type listView struct {
	st     *Styles
	l      layout
	gen    uint64 // render-cache generation: bumped on resize and theme change
	now    time.Time
	spin   string // current spinner frame
	buf    []byte
	gapStr string
}

// titles renders the column-title line.
func (v *listView) titles() string {
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", markerWidth))
	first := true
	for id := range numCols {
		w := v.l.w[id]
		if w == 0 {
			continue
		}
		if !first {
			b.WriteString(v.gapStr)
		}
		first = false
		if colID(id) == colExpires {
			b.WriteString(fitRight(colSpecs[id].title, w))
		} else {
			b.WriteString(fit(colSpecs[id].title, w))
		}
	}
	return v.st.ColTitle.Render(fit(b.String(), v.l.width))
}

// cells builds one line of the table: each shown column's text fitted to
// its width, with a gap between columns. On the selected row every piece
// carries the selection style.
type cells struct {
	v   *listView
	b   []byte
	gap string
	any bool // a cell was written: the next one needs a gap
	sel bool
}

// next writes the gap before a cell, if it is not the first.
func (c *cells) next() {
	if c.any {
		c.b = append(c.b, c.gap...)
	}
	c.any = true
}

// text writes a column's text in style st, aligned left or right.
func (c *cells) text(id colID, text string, st lipgloss.Style, right bool) {
	w := c.v.l.w[id]
	if w == 0 {
		return
	}
	c.next()
	if right {
		text = fitRight(text, w)
	} else {
		text = fit(text, w)
	}
	if c.sel {
		st = st.Inherit(c.v.st.Selected)
	}
	c.b = append(c.b, st.Render(text)...)
}

// rendered writes a column rendered already.
func (c *cells) rendered(id colID, s string) {
	if c.v.l.w[id] == 0 {
		return
	}
	c.next()
	c.b = append(c.b, s...)
}

// static writes the cells that do not tick: name, email and kind.
func (v *listView) static(c *cells, r *row) {
	c.text(colName, r.acct.Name, v.st.Name, false)
	c.text(colEmail, cmp.Or(r.acct.Email, "—"), v.st.Email, false)
	c.text(colKind, r.kind, v.st.Kind, false)
}

// ensureCache renders the static cells of r for the current generation.
func (v *listView) ensureCache(r *row) {
	if r.cacheGen == v.gen {
		return
	}
	c := cells{v: v, gap: v.gapStr}
	v.static(&c, r)
	r.pre = string(c.b)
	r.scopes = v.badgeCell(r.badges, v.l.w[colScopes], false)
	r.cacheGen = v.gen
}

// badgeCell renders as many scope badges as fit in w cells, then "+N".
func (v *listView) badgeCell(badges []string, w int, selected bool) string {
	if w == 0 {
		return ""
	}
	if len(badges) == 0 {
		st := v.st.Muted
		if selected {
			st = st.Inherit(v.st.Selected)
		}
		return st.Render(fit("none", w))
	}
	pad := v.st.Badge.GetHorizontalFrameSize()
	sep := " "
	badge := v.st.Badge
	if selected {
		badge = badge.Inherit(v.st.Selected)
	}
	var b strings.Builder
	used := 0
	for i, label := range badges {
		bw := ansi.StringWidth(label) + pad
		rest := len(badges) - i - 1
		more := 0
		if rest > 0 {
			more = len(sep) + len("+") + len(strconv.Itoa(rest))
		}
		sepw := 0
		if i > 0 {
			sepw = len(sep)
		}
		if used+sepw+bw+more > w {
			tail := "+" + strconv.Itoa(len(badges)-i)
			if i > 0 {
				tail = sep + tail
			}
			if used+len(tail) > w {
				break
			}
			b.WriteString(v.plainCell(tail, selected))
			used += len(tail)
			break
		}
		if i > 0 {
			b.WriteString(v.plainCell(sep, selected))
		}
		b.WriteString(badge.Render(label))
		used += sepw + bw
	}
	if used < w {
		b.WriteString(v.plainCell(strings.Repeat(" ", w-used), selected))
	}
	return b.String()
}

func (v *listView) plainCell(s string, selected bool) string {
	if selected {
		return v.st.Selected.Render(s)
	}
	if strings.TrimSpace(s) == "" {
		return s
	}
	return v.st.Muted.Render(s)
}

// render renders one row: the static cells from the cache, or afresh in
// the selection style on the selected row, then the ticking cells.
func (v *listView) render(r *row, selected bool) string {
	c := cells{v: v, b: v.buf[:0], gap: v.gapStr, sel: selected}
	var scopes string
	if selected {
		sel := v.st.Selected
		c.gap = sel.Render(v.gapStr)
		c.b = append(c.b, v.st.Marker.Inherit(sel).Render("›")...)
		c.b = append(c.b, sel.Render(" ")...)
		v.static(&c, r)
		scopes = v.badgeCell(r.badges, v.l.w[colScopes], true)
	} else {
		v.ensureCache(r)
		c.b = append(c.b, "  "...)
		c.b = append(c.b, r.pre...)
		c.any = r.pre != ""
		scopes = r.scopes
	}
	text, u := v.expires(r)
	c.text(colExpires, text, v.st.urgency(u), true)
	c.rendered(colScopes, scopes)
	status, k := statusOf(r, v.now)
	if r.busy {
		status = v.spin + " " + status
	}
	c.text(colStatus, status, v.st.status(k), false)
	v.buf = c.b
	return string(c.b)
}

// expires is the countdown text of a row and its urgency.
func (v *listView) expires(r *row) (string, urgency) {
	a := &r.acct
	if a.State == accounts.StateRevoked {
		return "—", urgencyNone
	}
	if a.AccessToken == "" {
		return "no token", urgencyExpired
	}
	u := urgencyOf(a.Expiry, v.now)
	switch u {
	case urgencyNone:
		return "unknown", u
	case urgencyExpired:
		return "expired", u
	}
	return countdown(a.Expiry.Sub(v.now)), u
}
