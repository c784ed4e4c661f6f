package cli

import (
	"github.com/spf13/cobra"
)

// VersionOptions are the options of `keyfob version`.
type VersionOptions struct {
	IO      *IOStreams
	Version string
}

// NewCmdVersion returns `keyfob version`; runF replaces its run in tests.
func NewCmdVersion(f *Factory, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: f.IO, Version: f.Version}
	return &cobra.Command{
		Use:   "version",
		Short: "Print keyfob's version",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runVersion(opts)
		},
	}
}

func runVersion(opts *VersionOptions) error {
	fprintln(opts.IO.Out, "keyfob "+opts.Version)
	return nil
}
