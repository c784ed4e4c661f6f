package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/oauth/fleetapi"
	"github.com/keyfob/keyfob/oauth/fleetapp"
)

// KeygenOptions are the options of `keyfob partner keygen`.
type KeygenOptions struct {
	IO   *IOStreams
	Keys func() fleetapp.Keys

	// Import is --import FILE ("-" is stdin): an existing private key.
	Import string
	Force  bool
}

// NewCmdPartnerKeygen returns `keyfob partner keygen`; runF replaces its
// run in tests.
func NewCmdPartnerKeygen(f *Factory, runF func(*KeygenOptions) error) *cobra.Command {
	opts := &KeygenOptions{IO: f.IO, Keys: f.Keys}
	cmd := &cobra.Command{
		Use:   "keygen [--import FILE] [--force]",
		Short: "Make your app's key pair (prime256v1), or import its private key",
		Long: "keygen makes the EC key pair (prime256v1, P-256) your Fleet API app needs for vehicle commands and\n" +
			"partner registration, and keeps it in keyfob's directory: the private key in " + fleetapp.PrivateKeyFile + "\n" +
			"(0600, never printed, never served), the public key in " + fleetapp.PublicKeyFile + ".\n" +
			"It prints the public key's path on stderr and its PEM on stdout. Publish the public key at\n" +
			"https://DOMAIN" + fleetapi.KeyPath + " (keyfob serve serves it there), then run\n" +
			"keyfob partner register --domain DOMAIN.\n\n" +
			"--import takes an existing private key instead (PEM \"EC PRIVATE KEY\" as openssl and tesla-keygen\n" +
			"write it, or PKCS #8). An existing key pair is replaced only with --force, and the old private key\n" +
			"is then kept beside it: vehicles paired with it accept commands signed with it only.",
		Example: "  keyfob partner keygen\n  keyfob partner keygen --import private-key.pem\n  keyfob partner keygen --force > public-key.pem",
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runPartnerKeygen(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Import, "import", "", "take this existing private key (PEM; - reads stdin) instead of making one")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace an existing key pair (the old private key is kept beside it)")
	return cmd
}

func runPartnerKeygen(opts *KeygenOptions) error {
	keys := opts.Keys()
	var kp fleetapp.KeyPair
	var err error
	switch opts.Import {
	case "":
		kp, err = keys.Generate(opts.Force)
	default:
		var data []byte
		if data, err = readImport(opts); err != nil {
			return err
		}
		kp, err = keys.Import(data, importName(opts.Import), opts.Force)
	}
	if errors.Is(err, fleetapp.ErrKeyExists) {
		return fmt.Errorf("the app's key pair exists already (%s, public key %s); keep it — vehicles paired with it need it — "+
			"or replace it with keyfob partner keygen --force", keys.PrivatePath(), keys.PublicPath())
	}
	if err != nil {
		return err
	}
	w, verb := opts.IO.Err, "Made a new key pair (prime256v1)"
	if opts.Import != "" {
		verb = "Imported the private key " + importName(opts.Import) + " (prime256v1)"
	}
	fprintf(w, "%s.\n  private key  %s  (0600; it never leaves this machine)\n  public key   %s\n", verb, kp.PrivatePath, kp.PublicPath)
	if kp.Replaced != "" {
		fprintf(w, "  replaced     the old private key is kept in %s\n", kp.Replaced)
		fprintln(w, "Vehicles paired with the old key need the new one: register again and pair again (keyfob partner pair).")
	}
	fprintln(w, "Publish the public key at https://DOMAIN"+fleetapi.KeyPath+"\n(keyfob serve serves it there), then run keyfob partner register --domain DOMAIN.")
	_, err = opts.IO.Out.Write(kp.PublicPEM)
	return err
}

func importName(path string) string {
	if path == "-" {
		return "from stdin"
	}
	return path
}

// readImport reads --import's file, or stdin for "-".
func readImport(opts *KeygenOptions) ([]byte, error) {
	if strings.TrimSpace(opts.Import) == "" {
		return nil, usagef("--import needs a file (or - for stdin)")
	}
	if opts.Import == "-" {
		if opts.IO.InTTY {
			return nil, usagef("--import - reads the private key from stdin, which is a terminal; pipe the file in, or give its path")
		}
		b, err := io.ReadAll(io.LimitReader(opts.IO.In, maxSecret))
		if err != nil {
			return nil, fmt.Errorf("cannot read the private key from stdin: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(opts.Import)
	if err != nil {
		return nil, fmt.Errorf("cannot read the private key to import: %w", err)
	}
	return b, nil
}
