package list

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
