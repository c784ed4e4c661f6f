package accounts

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestCopyToKeepsEveryAccount copies a store into an empty one, with an
// account an older keyfob wrote without a creation time: the copy holds
// every account and token, and reads back the same.
func TestCopyToKeepsEveryAccount(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	seed(t, m, expired(), Account{ID: "000000b2", Name: "old", RefreshToken: "rt-old"})
	// Put dates an account it is given undated: take the date out by hand,
	// as an older store holds it.
	s := storeOf(m)
	a, err := s.readRecord("000000b2")
	if err != nil {
		t.Fatal(err)
	}
	a.CreatedAt = time.Time{}
	if err := s.writeRecord(a); err != nil {
		t.Fatal(err)
	}
	if a, _ := reopen(t, m).Get(context.Background(), "000000b2"); !a.CreatedAt.IsZero() {
		t.Fatal("the test could not store an undated account")
	}
	dst, err := Open("", Options{Dir: filepath.Join(t.TempDir(), "copy"), Now: m.Now})
	if err != nil {
		t.Fatal(err)
	}
	done, err := reopen(t, m).CopyTo(context.Background(), dst)
	if err != nil || done.Accounts != 2 {
		t.Fatalf("copy: %+v %v", done, err)
	}
	got, err := dst.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if b := got.Find("000000b2"); b == nil || b.RefreshToken != "rt-old" || b.Name != "old" {
		t.Fatalf("copied %+v", got.Accounts)
	}
}
