package list

import (
	"cmp"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// table renders the account table of one width and style: the column
// titles and single rows. The cells that do not tick are cached on each
// row for the current generation.
type table struct {
	st   *common.Styles
	l    layout
	gen  uint64 // render-cache generation: bumped on resize and theme change
	now  time.Time
	spin string // current spinner frame
	buf  []byte
	size int // the length of the last rendering, to size the next
}

const gap = "  "

// titles renders the column-title line.
func (t *table) titles() string {
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", markerWidth))
	first := true
	for id := range numCols {
		w := t.l.w[id]
		if w == 0 {
			continue
		}
		if !first {
			b.WriteString(gap)
		}
		first = false
		if colID(id) == colExpires {
			b.WriteString(common.FitRight(colSpecs[id].title, w))
		} else {
			b.WriteString(common.Fit(colSpecs[id].title, w))
		}
	}
	return t.st.ColTitle.Render(common.Fit(b.String(), t.l.width))
}

// cells builds one line of the table: each shown column's text fitted to
// its width, with a gap between columns. On the selected row every piece
// carries the selection style.
type cells struct {
	t   *table
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
	w := c.t.l.w[id]
	if w == 0 {
		return
	}
	c.next()
	if right {
		text = common.FitRight(text, w)
	} else {
		text = common.Fit(text, w)
	}
	if c.sel {
		st = st.Inherit(c.t.st.Selected)
	}
	c.b = append(c.b, st.Render(text)...)
}

// rendered writes a column rendered already.
func (c *cells) rendered(id colID, s string) {
	if c.t.l.w[id] == 0 {
		return
	}
	c.next()
	c.b = append(c.b, s...)
}

// static writes the cells that do not tick: name, email and kind.
func (t *table) static(c *cells, r *Row) {
	c.text(colName, r.name, t.st.Name, false)
	c.text(colEmail, cmp.Or(r.email, "—"), t.st.Email, false)
	c.text(colKind, r.kind, t.st.Kind, false)
}

// ensureCache renders the static cells of r for the current generation.
func (t *table) ensureCache(r *Row) {
	if r.cacheGen == t.gen {
		return
	}
	c := cells{t: t, gap: gap}
	t.static(&c, r)
	r.pre = string(c.b)
	r.scopes = t.badgeCell(r.badges, t.l.w[colScopes], false)
	r.cacheGen = t.gen
}

// badgeCell renders as many scope badges as fit in w cells, then "+N".
func (t *table) badgeCell(badges []string, w int, selected bool) string {
	if w == 0 {
		return ""
	}
	if len(badges) == 0 {
		st := t.st.Muted
		if selected {
			st = st.Inherit(t.st.Selected)
		}
		return st.Render(common.Fit("none", w))
	}
	pad := t.st.Badge.GetHorizontalFrameSize()
	const sep = " "
	badge := t.st.Badge
	if selected {
		badge = badge.Inherit(t.st.Selected)
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
			b.WriteString(t.plainCell(tail, selected))
			used += len(tail)
			break
		}
		if i > 0 {
			b.WriteString(t.plainCell(sep, selected))
		}
		b.WriteString(badge.Render(label))
		used += sepw + bw
	}
	if used < w {
		b.WriteString(t.plainCell(strings.Repeat(" ", w-used), selected))
	}
	return b.String()
}

func (t *table) plainCell(s string, selected bool) string {
	if selected {
		return t.st.Selected.Render(s)
	}
	if strings.TrimSpace(s) == "" {
		return s
	}
	return t.st.Muted.Render(s)
}

// row renders one row: the static cells from the cache, or afresh in the
// selection style on the selected row, then the ticking cells; job is
// what the refresh scheduler is doing for it.
func (t *table) row(r *Row, selected bool, job common.Job) string {
	c := cells{t: t, b: t.buf[:0], gap: gap, sel: selected}
	var scopes string
	if selected {
		sel := t.st.Selected
		c.gap = sel.Render(gap)
		c.b = append(c.b, t.st.Marker.Inherit(sel).Render("›")...)
		c.b = append(c.b, sel.Render(" ")...)
		t.static(&c, r)
		scopes = t.badgeCell(r.badges, t.l.w[colScopes], true)
	} else {
		t.ensureCache(r)
		c.b = append(c.b, "  "...)
		c.b = append(c.b, r.pre...)
		c.any = r.pre != ""
		scopes = r.scopes
	}
	text, u := t.expires(r)
	c.text(colExpires, text, t.st.Urgency(u), true)
	c.rendered(colScopes, scopes)
	status := r.Status(t.now, job)
	word := status.String()
	if job == common.Refreshing {
		word = t.spin + " " + word
	}
	c.text(colStatus, word, t.st.Tone(status.Tone), false)
	t.buf = c.b
	return string(c.b)
}

// expires is the countdown text of a row and its urgency.
func (t *table) expires(r *Row) (string, present.Urgency) {
	a := &r.acct
	if a.State == accounts.StateRevoked {
		return "—", present.UrgencyNone
	}
	if a.AccessToken == "" {
		return "no token", present.UrgencyExpired
	}
	u := present.UrgencyOf(a.Expiry, t.now)
	switch u {
	case present.UrgencyNone:
		return "unknown", u
	case present.UrgencyExpired:
		return "expired", u
	}
	return present.Countdown(a.Expiry.Sub(t.now)), u
}
