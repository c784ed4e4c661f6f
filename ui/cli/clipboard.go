package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/atotto/clipboard"
	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
)

// copyToClipboard puts tok on the system clipboard (or, without one, the
// terminal's through OSC 52) and starts a detached keyfob that clears it
// after the configured delay if it still holds tok. name is already clean.
func copyToClipboard(s *IOStreams, cfg accounts.Config, name, tok, what string) error {
	if clipboard.Unsupported {
		if !s.ErrTTY {
			return errors.New("no clipboard here (install xclip, xsel or wl-clipboard, or run in a terminal that supports OSC 52); print the token instead")
		}
		fprintf(s.Err, "%s", ansi.SetSystemClipboard(tok))
		fprintf(s.Err, "Copied the %s of %s through the terminal; clear your clipboard when done.\n", what, name)
		return nil
	}
	if err := clipboard.WriteAll(tok); err != nil {
		return fmt.Errorf("cannot write to the clipboard: %w", err)
	}
	after := cfg.ClearAfter()
	if after <= 0 {
		fprintf(s.Err, "Copied the %s of %s.\n", what, name)
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	sum := sha256.Sum256([]byte(tok))
	clear := exec.Command(self, "clipboard-clear", "--after", after.String(), "--sha256", hex.EncodeToString(sum[:]))
	clear.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := clear.Start(); err != nil {
		fprintf(s.Err, "Copied the %s of %s; it could not be scheduled for clearing (%v).\n", what, name, err)
		return nil
	}
	_ = clear.Process.Release()
	fprintf(s.Err, "Copied the %s of %s — clears in %v.\n", what, name, after)
	return nil
}

// ClipboardClearOptions are the options of the hidden clipboard-clear.
type ClipboardClearOptions struct {
	Ctx    context.Context
	After  time.Duration
	SHA256 string
}

// NewCmdClipboardClear returns the hidden helper copyToClipboard starts:
// it waits, then empties the clipboard if it still holds the token whose
// hash it was given (the token itself never reaches argv).
func NewCmdClipboardClear(_ *Factory, runF func(*ClipboardClearOptions) error) *cobra.Command {
	opts := &ClipboardClearOptions{}
	cmd := &cobra.Command{
		Use:    "clipboard-clear",
		Hidden: true,
		Args:   noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runClipboardClear(opts)
		},
	}
	cmd.Flags().DurationVar(&opts.After, "after", accounts.DefaultClipboardClear, "")
	cmd.Flags().StringVar(&opts.SHA256, "sha256", "", "")
	return cmd
}

func runClipboardClear(opts *ClipboardClearOptions) error {
	select {
	case <-time.After(opts.After):
	case <-opts.Ctx.Done():
	}
	cur, err := clipboard.ReadAll()
	if err != nil {
		return err
	}
	got := sha256.Sum256([]byte(cur))
	if hex.EncodeToString(got[:]) != opts.SHA256 {
		return nil
	}
	return clipboard.WriteAll("")
}
