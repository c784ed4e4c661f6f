package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/ui"
	"github.com/keyfob/keyfob/ui/demo"
)

// DemoOptions are the options of `keyfob demo`.
type DemoOptions struct {
	IO  *IOStreams
	Ctx context.Context

	Theme string
}

// NewCmdDemo returns `keyfob demo`; runF replaces its run in tests.
func NewCmdDemo(f *Factory, runF func(*DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try keyfob on a local sandbox server with sample accounts (no Tesla account needed)",
		Long: "demo starts a sandbox authorization server on 127.0.0.1 that behaves like Tesla's, fills a\n" +
			"temporary keyfob directory with sample accounts in every state, and opens the UI on it.\n" +
			"Every flow works; your real accounts are never touched, and everything is deleted on exit.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runDemo(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Theme, "theme", "", themeUsage())
	return cmd
}

func runDemo(opts *DemoOptions) error {
	if err := checkTheme(opts.Theme); err != nil {
		return err
	}
	d, err := demo.Start(opts.Ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	return ui.Run(opts.Ctx, d.Options(ui.Options{Theme: opts.Theme, Input: opts.IO.In, Output: opts.IO.TUIOutput()}))
}
