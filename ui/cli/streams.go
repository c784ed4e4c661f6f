package cli

import (
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

func isTerminal(v any) bool {
	f, ok := v.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(f.Fd())
}

// fprintln writes a line for people; a stream that cannot be written to
// has no one to tell.
func fprintln(w io.Writer, a ...any) { _, _ = fmt.Fprintln(w, a...) }

func fprintf(w io.Writer, format string, a ...any) { _, _ = fmt.Fprintf(w, format, a...) }
