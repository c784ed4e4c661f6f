package list

import "testing"

// On a narrow terminal the columns go by priority, and the table never
// grows wider than the terminal.
func TestLayoutDropsColumnsByPriority(t *testing.T) {
	wide, narrow := computeLayout(120), computeLayout(50)
	for id := range numCols {
		if wide.w[id] == 0 {
			t.Errorf("column %s hidden at 120 columns", colSpecs[id].title)
		}
	}
	if narrow.w[colEmail] != 0 || narrow.w[colScopes] != 0 {
		t.Error("email and scopes should go first on a narrow terminal")
	}
	for _, id := range []colID{colName, colExpires, colStatus} {
		if narrow.w[id] == 0 {
			t.Errorf("column %s dropped at 50 columns", colSpecs[id].title)
		}
	}
	for _, w := range []int{20, 40, 60, 80, 100, 120, 200} {
		l := computeLayout(w)
		used, n := markerWidth, 0
		for id := range numCols {
			if l.w[id] > 0 {
				used += l.w[id]
				n++
			}
		}
		used += (n - 1) * colGap
		if used > w {
			t.Errorf("at %d columns the table is %d wide", w, used)
		}
	}
}
