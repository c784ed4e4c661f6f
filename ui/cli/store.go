package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/present"
)

// NewCmdStore returns `keyfob store` and its commands.
func NewCmdStore(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Move the accounts to another store, or re-key an etcd store",
		Long: "keyfob keeps its accounts in a store: a directory (file://DIR, the default) or an etcd cluster\n" +
			"(etcd://HOST:PORT[,HOST:PORT...]/PREFIX) that several machines share. These commands copy the\n" +
			"accounts and consumers from one store to another, and re-seal an etcd store's tokens under a new key.",
		Args: noArgs,
	}
	cmd.AddCommand(NewCmdStoreMigrate(f, nil), NewCmdStoreRekey(f, nil))
	return cmd
}

// StoreMigrateOptions are the options of `keyfob store migrate`.
type StoreMigrateOptions struct {
	IO      *IOStreams
	Ctx     context.Context
	Manager func() *accounts.Manager
	// Open opens the destination store.
	Open func(location, keyFile string, plaintext bool) (*accounts.Manager, error)

	To          string
	ToKeyFile   string
	ToPlaintext bool
}

// NewCmdStoreMigrate returns `keyfob store migrate`; runF replaces its run
// in tests.
func NewCmdStoreMigrate(f *Factory, runF func(*StoreMigrateOptions) error) *cobra.Command {
	opts := &StoreMigrateOptions{IO: f.IO, Manager: f.Manager, Open: f.OpenStore}
	cmd := &cobra.Command{
		Use:   "migrate --to URL",
		Short: "Copy every account and consumer into another, empty store",
		Long: "migrate copies every account (with its tokens) and every consumer of keyfob serve from the store\n" +
			"keyfob uses (--store) into the empty store --to names, reads it back to check that it holds the\n" +
			"same, and says what it did. The store copied from is left as it was. Stop whatever still uses it\n" +
			"(keyfob serve, cron jobs) before you switch: refreshes there would rotate tokens the new store\n" +
			"does not see. An etcd store's tokens are sealed with --to-key-file (default: --store-key-file).",
		Example: "  # the directory store into a three-member etcd cluster\n" +
			"  keyfob store migrate --to etcd://10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379/keyfob --to-key-file /etc/keyfob/store.key\n" +
			"  # and back into a directory\n" +
			"  keyfob --store etcd://10.0.0.1:2379/keyfob --store-key-file /etc/keyfob/store.key store migrate --to file:///srv/keyfob",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			if opts.ToKeyFile == "" {
				opts.ToKeyFile = f.StoreKeyFile()
			}
			if runF != nil {
				return runF(opts)
			}
			return runStoreMigrate(opts)
		},
	}
	cmd.Flags().StringVar(&opts.To, "to", "", "the store to copy into: a directory, file://DIR or etcd://HOST:PORT[,...]/PREFIX")
	cmd.Flags().StringVar(&opts.ToKeyFile, "to-key-file", "", "the store key of an etcd --to (default --store-key-file, $"+EnvStoreKeyFile+")")
	cmd.Flags().BoolVar(&opts.ToPlaintext, "to-plaintext", false, "an etcd --to without a store key: etcd then holds the tokens in plain text")
	return cmd
}

func runStoreMigrate(opts *StoreMigrateOptions) error {
	if strings.TrimSpace(opts.To) == "" {
		return usagef("--to needs the store to copy into, e.g. --to etcd://HOST:2379/keyfob or --to file:///srv/keyfob")
	}
	keyFile := opts.ToKeyFile
	if opts.ToPlaintext {
		keyFile = ""
	}
	dst, err := opts.Open(opts.To, keyFile, opts.ToPlaintext)
	if err != nil {
		return err
	}
	defer dst.Close()
	src := opts.Manager()
	if src.Location() == dst.Location() {
		return usagef("--to names the store keyfob uses already (%s)", dst.Location())
	}
	done, err := src.CopyTo(opts.Ctx, dst)
	if err != nil {
		return err
	}
	fprintf(opts.IO.Err, "Copied %s and %s from %s to %s, and read them back: the same.\n",
		plural(done.Accounts, "account", "accounts"), plural(done.Consumers, "consumer", "consumers"),
		present.OneLine(done.From), present.OneLine(done.To))
	fprintf(opts.IO.Err, "%s is unchanged. Stop what still uses it, then use the new store: --store %s (or %s).\n",
		present.OneLine(done.From), present.OneLine(done.To), EnvStore)
	return nil
}

// StoreRekeyOptions are the options of `keyfob store rekey`.
type StoreRekeyOptions struct {
	IO      *IOStreams
	Ctx     context.Context
	Manager func() *accounts.Manager

	NewKeyFile string
}

// NewCmdStoreRekey returns `keyfob store rekey`; runF replaces its run in
// tests.
func NewCmdStoreRekey(f *Factory, runF func(*StoreRekeyOptions) error) *cobra.Command {
	opts := &StoreRekeyOptions{IO: f.IO, Manager: f.Manager}
	cmd := &cobra.Command{
		Use:   "rekey --new-key-file FILE",
		Short: "Seal an etcd store's tokens under a new store key",
		Long: "rekey seals every token of the etcd store (--store, opened with its key: --store-key-file) again\n" +
			"under the key in --new-key-file, which becomes the store's key. From its start, keyfob processes\n" +
			"that still have the old key neither read nor write the store: restart them (keyfob serve replicas\n" +
			"too) with the new key. An interrupted rekey is finished by running it again with the same keys.\n" +
			"With --store-plaintext it encrypts a store that kept its tokens in plain text.",
		Example: "  openssl rand -base64 32 > new.key && chmod 600 new.key\n" +
			"  keyfob --store etcd://10.0.0.1:2379/keyfob --store-key-file old.key store rekey --new-key-file new.key",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return runStoreRekey(opts)
		},
	}
	cmd.Flags().StringVar(&opts.NewKeyFile, "new-key-file", "", "the new store key: a 0600 file of 32 random bytes in base64 (openssl rand -base64 32)")
	return cmd
}

func runStoreRekey(opts *StoreRekeyOptions) error {
	if strings.TrimSpace(opts.NewKeyFile) == "" {
		return usagef("--new-key-file needs the new key: create one with openssl rand -base64 32 > FILE && chmod 600 FILE")
	}
	m := opts.Manager()
	done, err := m.Rekey(opts.Ctx, opts.NewKeyFile)
	if err != nil {
		return err
	}
	fprintf(opts.IO.Err, "Sealed %s of %s again under the new key (key %s).\n",
		plural(done.Accounts, "account", "accounts"), present.OneLine(m.Location()), done.KeyID)
	fprintf(opts.IO.Err, "Use --store-key-file %s (or %s) from now on, and restart keyfob serve and other keyfob processes with it.\n",
		present.OneLine(opts.NewKeyFile), EnvStoreKeyFile)
	return nil
}
