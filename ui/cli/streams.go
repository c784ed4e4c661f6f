package cli

import (
	"cmp"
	"fmt"
	"io"
	"os"

	"github.com/charmbracelet/x/term"
)

// IOStreams are a command's standard streams and whether each is a
// terminal. Results go to Out; everything meant for people goes to Err.
type IOStreams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer

	InTTY, OutTTY, ErrTTY bool
	// Columns and Rows are the terminal's size; 0 means ask the terminal
	// (Size).
	Columns, Rows int
}

// System returns the process's standard streams.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InTTY: isTerminal(os.Stdin), OutTTY: isTerminal(os.Stdout), ErrTTY: isTerminal(os.Stderr),
	}
}

// TUIOutput is where the TUI draws: stdout when it is a terminal, else
// stderr, which keeps stdout free for results.
func (s *IOStreams) TUIOutput() io.Writer {
	if s.OutTTY {
		return s.Out
	}
	return s.Err
}

// DefaultWidth and DefaultHeight are the size assumed when no terminal
// says its own.
const (
	DefaultWidth  = 80
	DefaultHeight = 24
)

// Width is the width of the terminal that stdout, else stderr, is:
// Columns when set, else what the terminal says, else DefaultWidth.
func (s *IOStreams) Width() int {
	w, _ := s.Size()
	return w
}

// Size is the width and height of the terminal that stdout, else stderr,
// is: Columns and Rows when set, else what the terminal says, else
// DefaultWidth and DefaultHeight.
func (s *IOStreams) Size() (width, height int) {
	if s.Columns > 0 {
		return s.Columns, cmp.Or(s.Rows, DefaultHeight)
	}
	for _, w := range []struct {
		v   any
		tty bool
	}{{s.Out, s.OutTTY}, {s.Err, s.ErrTTY}} {
		if f, ok := w.v.(interface{ Fd() uintptr }); ok && w.tty {
			if cols, rows, err := term.GetSize(f.Fd()); err == nil && cols > 0 {
				return cols, cmp.Or(rows, DefaultHeight)
			}
		}
	}
	return DefaultWidth, DefaultHeight
}

func isTerminal(v any) bool {
	f, ok := v.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(f.Fd())
}

// fprintln writes a line for people; a stream that cannot be written to
// has no one to tell.
func fprintln(w io.Writer, a ...any) { _, _ = fmt.Fprintln(w, a...) }

func fprintf(w io.Writer, format string, a ...any) { _, _ = fmt.Fprintf(w, format, a...) }
