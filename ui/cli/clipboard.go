package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/clipboard"
)

// copyToClipboard puts tok on the system clipboard (or, without one, the
// terminal's through OSC 52) and has a detached keyfob clear it after the
// configured delay if it still holds tok. name is already clean.
func copyToClipboard(s *IOStreams, cfg accounts.Config, name, tok, what string) error {
	cb := clipboard.System()
	if cb == nil {
		if !s.ErrTTY {
			return errors.New("no clipboard here (install xclip, xsel or wl-clipboard, or run in a terminal that supports OSC 52); print the token instead")
		}
		fprintf(s.Err, "%s", ansi.SetSystemClipboard(tok))
		fprintf(s.Err, "Copied the %s of %s %s; clear your clipboard when done.\n", what, name, clipboard.TerminalOnly)
		return nil
	}
	if err := cb.WriteAll(tok); err != nil {
		return fmt.Errorf("cannot write to the clipboard: %w", err)
	}
	after := cfg.ClearAfter()
	if after <= 0 {
		fprintf(s.Err, "Copied the %s of %s to the system clipboard.\n", what, name)
		return nil
	}
	if err := (clipboard.Clearer{}).Schedule(tok, after); err != nil {
		fprintf(s.Err, "Copied the %s of %s to the system clipboard; it could not be scheduled for clearing (%v): clear your clipboard when done.\n", what, name, err)
		return nil
	}
	fprintf(s.Err, "Copied the %s of %s to the system clipboard — clears in %v.\n", what, name, after)
	return nil
}

// ClipboardClearOptions are the options of the hidden clipboard-clear.
type ClipboardClearOptions struct {
	IO  *IOStreams
	Ctx context.Context
}

// NewCmdClipboardClear returns the hidden command that clears a copied
// token (see package ui/clipboard): it reads its request on stdin, waits, then
// empties the clipboard if it still holds the token. A termination signal
// clears at once.
func NewCmdClipboardClear(f *Factory, runF func(*ClipboardClearOptions) error) *cobra.Command {
	opts := &ClipboardClearOptions{IO: f.IO}
	return &cobra.Command{
		Use:    clipboard.ClearCommand,
		Hidden: true,
		Args:   noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			_, err := clipboard.Serve(opts.Ctx, opts.IO.In, clipboard.System())
			return err
		},
	}
}
