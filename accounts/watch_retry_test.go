package accounts

import (
	"context"
	"slices"
	"testing"
)

// TestWatchTellsAgainWhatItCouldNotRead: a change the watcher was told of
// but could not read (a record held by a lock too long, caught half-edited)
// is told again at the next look, though the store's marks no longer
// differ, until it is read; then it is not told again.
func TestWatchTellsAgainWhatItCouldNotRead(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	seed(t, m, expired())
	ctx := context.Background()
	b, err := m.ready(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var told []lookFor
	fail := true
	src := b.(*fileStore).newWatch(func(l lookFor) lookFor {
		told = append(told, l)
		if fail {
			return lookFor{ids: l.ids, consumers: l.consumers}
		}
		return lookFor{}
	})
	w := src.(*fileWatch)
	if _, err := m.Rename(ctx, "000000a1", "cabin"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.AddConsumer(ctx, "tm", "cabin"); err != nil {
		t.Fatal(err)
	}
	w.look(false)
	if len(told) != 1 || !slices.Contains(told[0].ids, "000000a1") || !told[0].consumers {
		t.Fatalf("first look told %+v, want the renamed account and the consumers", told)
	}
	fail = false
	w.look(false)
	if len(told) != 2 || !slices.Contains(told[1].ids, "000000a1") || !told[1].consumers {
		t.Fatalf("what could not be read was not told again: %+v", told)
	}
	w.look(false)
	for _, l := range told[2:] { // a mark within the clock's tick is looked at again, by design
		if slices.Contains(l.ids, "000000a1") {
			t.Fatalf("what was read was told again: %+v", told[2:])
		}
	}
}
