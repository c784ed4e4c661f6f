package cli

import "github.com/spf13/cobra"

// NewCmdPartnerPair returns `keyfob partner pair`.
func NewCmdPartnerPair(f *Factory, runF func(*PairOptions) error) *cobra.Command {
	return &cobra.Command{Use: "pair", Hidden: true}
}

// PairOptions are the options of `keyfob partner pair`.
type PairOptions struct{}
