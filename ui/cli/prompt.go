package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/x/term"
)

// maxSecret bounds a secret read from a pipe.
const maxSecret = 1 << 20

// Prompter asks the user questions on stderr and reads the answers from
// stdin. Lines are read one at a time and only when asked for, so that a
// password prompt that reads the terminal itself gets its own input; a line
// being read when the asker gave up (a login finished in the browser) is
// kept for the next question.
type Prompter struct {
	in     io.Reader
	inTTY  bool
	err    io.Writer
	reader *bufio.Reader
	// pending delivers the line being read, if a read is under way.
	pending chan line
}

// line is one line of stdin, trimmed.
type line struct {
	text string
	err  error
}

// NewPrompter returns a prompter over the streams.
func NewPrompter(s *IOStreams) *Prompter {
	return &Prompter{in: s.In, inTTY: s.InTTY, err: s.Err}
}

// Line asks with prompt and returns the next line of stdin, trimmed.
func (p *Prompter) Line(ctx context.Context, prompt string) (string, error) {
	fprintf(p.err, "%s", prompt)
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case l := <-p.next():
		p.taken()
		if l.err == io.EOF {
			return "", errors.New("stdin closed before anything was pasted")
		}
		return l.text, l.err
	}
}

// Confirm asks a yes/no question; only "y" or "yes" is yes.
func (p *Prompter) Confirm(ctx context.Context, question string) (bool, error) {
	answer, err := p.Line(ctx, question+" [y/N] ")
	if err != nil {
		return false, err
	}
	return strings.EqualFold(answer, "y") || strings.EqualFold(answer, "yes"), nil
}

// Secret reads a password or token: from a prompt without echo when stdin
// is a terminal, else all of stdin.
func (p *Prompter) Secret(prompt string) (string, error) {
	if f, ok := p.in.(interface{ Fd() uintptr }); ok && p.inTTY {
		fprintf(p.err, "%s", prompt)
		b, err := term.ReadPassword(f.Fd())
		fprintln(p.err)
		if err != nil {
			return "", fmt.Errorf("cannot read from the terminal: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if p.inTTY {
		// A terminal keyfob cannot switch echo off (a test's): one line.
		return p.Line(context.Background(), prompt)
	}
	b, err := io.ReadAll(io.LimitReader(p.source(), maxSecret))
	if err != nil {
		return "", fmt.Errorf("cannot read stdin: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// All reads the rest of stdin, trimmed; what names it in an error.
func (p *Prompter) All(what string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p.source(), maxSecret))
	if err != nil {
		return "", fmt.Errorf("cannot read %s from stdin: %w", what, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// source is stdin, through the line reader once one exists (it may hold
// bytes read ahead).
func (p *Prompter) source() io.Reader {
	if p.reader != nil {
		return p.reader
	}
	return p.in
}

// next starts reading the next line, unless a read is under way, and
// returns where it arrives. Whoever receives from it calls taken.
func (p *Prompter) next() <-chan line {
	if p.pending == nil {
		if p.reader == nil {
			p.reader = bufio.NewReader(p.in)
		}
		ch := make(chan line, 1)
		p.pending = ch
		r := p.reader
		go func() {
			s, err := r.ReadString('\n')
			if err == io.EOF && s != "" {
				err = nil
			}
			ch <- line{strings.TrimSpace(s), err}
		}()
	}
	return p.pending
}

// taken records that the pending line was received.
func (p *Prompter) taken() { p.pending = nil }
