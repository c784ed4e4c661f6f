package cli

import (
	"io"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/ui/common"
)

// column is one column of a table printed for people: its title, its
// cells, and how it gives way on a narrow terminal.
type column struct {
	title string
	cells []string
	// drop orders the columns that go when the table does not fit: 1
	// first, then 2, …; 0 never goes.
	drop int
	// least is how narrow the column may be cut (with an ellipsis); 0
	// means it is never cut.
	least int
	// early columns go before any column is cut.
	early bool
}

const columnGap = 2

// natural is the width of a column's widest cell or title.
func (c *column) natural() int {
	w := ansi.StringWidth(c.title)
	for _, s := range c.cells {
		w = max(w, ansi.StringWidth(s))
	}
	return w
}

// fitColumns chooses the columns of a table width cells wide, and their
// widths, as the TUI's list does: the early columns go, by drop order,
// until the rest fit uncut; then other columns go until the rest fit at
// their narrowest; then the cut columns grow back, in order,
// a cell at a time, in turn, as far as the width allows. width 0 fits any
// table.
func fitColumns(cols []column, width int) ([]column, []int) {
	nat := make([]int, len(cols))
	for i := range cols {
		nat[i] = cols[i].natural()
	}
	sum := func(w func(i int) int) int {
		total := -columnGap
		for i := range cols {
			total += w(i) + columnGap
		}
		return total
	}
	for width > 0 && sum(func(i int) int { return nat[i] }) > width {
		at := dropFirst(cols, true)
		if at < 0 {
			break
		}
		cols = append(cols[:at:at], cols[at+1:]...)
		nat = append(nat[:at:at], nat[at+1:]...)
	}
	narrowest := func(i int) int {
		if cols[i].least > 0 {
			return min(cols[i].least, nat[i])
		}
		return nat[i]
	}
	for width > 0 && sum(narrowest) > width {
		at := dropFirst(cols, false)
		if at < 0 {
			break
		}
		cols = append(cols[:at:at], cols[at+1:]...)
		nat = append(nat[:at:at], nat[at+1:]...)
	}
	widths := make([]int, len(cols))
	left := width + columnGap
	for i := range cols {
		widths[i] = narrowest(i)
		left -= widths[i] + columnGap
	}
	if width <= 0 {
		return cols, nat
	}
	// What is left goes to the cut columns a cell at a time, in turn.
	for grew := true; grew && left > 0; {
		grew = false
		for i := range cols {
			if widths[i] < nat[i] && left > 0 {
				widths[i]++
				left--
				grew = true
			}
		}
	}
	return cols, widths
}

// dropFirst is the index of the column that goes first, or -1; with
// early, only an early one.
func dropFirst(cols []column, early bool) int {
	at := -1
	for i, c := range cols {
		if c.drop > 0 && (c.early || !early) && (at < 0 || c.drop < cols[at].drop) {
			at = i
		}
	}
	return at
}

// writeColumns prints a table: the titles, then one line per row, each
// cell cut or padded to its column's width, the last not padded.
func writeColumns(w io.Writer, cols []column, widths []int) {
	if len(cols) == 0 {
		return
	}
	rows := len(cols[0].cells)
	var b strings.Builder
	for r := -1; r < rows; r++ {
		b.Reset()
		for i, c := range cols {
			text := c.title
			if r >= 0 {
				text = c.cells[r]
			}
			if i == len(cols)-1 {
				b.WriteString(common.Clip(text, widths[i]))
				break
			}
			b.WriteString(common.Fit(text, widths[i]))
			b.WriteString(strings.Repeat(" ", columnGap))
		}
		fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
