package accounts

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// WriteFile is the store's own atomic write for files outside the store
// (keyfob token --write, keyfob exec): private from the first byte, and
// never through a link.
func TestWriteFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "token")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if b, _ := os.ReadFile(p); err != nil || string(b) != "new" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("content %q, mode %v, err %v", b, fi.Mode().Perm(), err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("evil")); !errors.Is(err, ErrSymlink) {
		t.Fatalf("through a link: %v", err)
	}
	if err := WriteFile(dir, []byte("x")); err == nil {
		t.Fatal("a directory was accepted")
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatalf("the link's target was written: %q", b)
	}
}
