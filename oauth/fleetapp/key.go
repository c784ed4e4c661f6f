// Package fleetapp sets up a Fleet API app of the user's own: its key
// pair, kept in keyfob's directory (the private key 0600, never printed
// or served), the virtual-key pairing link, and what keyfob remembers of
// each app (its domain, the set-up steps done) between runs.
//
// It prints nothing; the command line and the TUI word its results.
package fleetapp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/fleetapi"
)

// The key pair's files in keyfob's directory. The public key has the
// name Tesla fetches it under, so it can be copied to a web server as it
// is.
const (
	PrivateKeyFile = "com.tesla.3p.private-key.pem"
	PublicKeyFile  = "com.tesla.3p.public-key.pem"
)

// ErrKeyExists is returned when a key pair exists and the caller did not
// ask to replace it.
var ErrKeyExists = errors.New("the app's key pair exists already")

// ErrNoKey matches the error of reading a key pair that does not exist.
var ErrNoKey = errors.New("the app has no key pair yet")

// maxKeyFile bounds a key file read: a PEM EC key is a few hundred bytes.
const maxKeyFile = 64 << 10

// Keys are the key pair files of keyfob's directory Dir.
type Keys struct {
	Dir string
	// Now dates a replaced private key's backup; nil is time.Now.
	Now func() time.Time
}

// PrivatePath is where the private key is kept.
func (k Keys) PrivatePath() string { return filepath.Join(k.Dir, PrivateKeyFile) }

// PublicPath is where the public key is kept.
func (k Keys) PublicPath() string { return filepath.Join(k.Dir, PublicKeyFile) }

// KeyPair is what Generate and Import made.
type KeyPair struct {
	PrivatePath, PublicPath string
	// PublicPEM is the public key as Tesla fetches it.
	PublicPEM []byte
	// Point is the public key's uncompressed point (04||X||Y), as Tesla
	// reports it.
	Point []byte
	// Replaced is where the private key that was replaced was kept (only
	// with force), "" when there was none.
	Replaced string
}

// Generate makes a new prime256v1 key pair. An existing one is kept and
// ErrKeyExists returned unless force, when the old private key is kept
// beside it under a dated name: vehicles paired with it need it.
func (k Keys) Generate(force bool) (KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return KeyPair{}, fmt.Errorf("cannot make a key pair: %w", err)
	}
	return k.save(key, force)
}

// Import takes an existing private key from PEM data (see
// fleetapi.ParsePrivateKey), with the same rule as Generate for an
// existing pair. from names the data in errors.
func (k Keys) Import(data []byte, from string, force bool) (KeyPair, error) {
	key, err := fleetapi.ParsePrivateKey(data)
	if err != nil {
		return KeyPair{}, fmt.Errorf("cannot import the private key %s: %w", from, err)
	}
	return k.save(key, force)
}

func (k Keys) save(key *ecdsa.PrivateKey, force bool) (KeyPair, error) {
	priv, err := fleetapi.PrivateKeyPEM(key)
	if err != nil {
		return KeyPair{}, err
	}
	pub, err := fleetapi.PublicKeyPEM(&key.PublicKey)
	if err != nil {
		return KeyPair{}, err
	}
	if err := ensureDir(k.Dir); err != nil {
		return KeyPair{}, err
	}
	out := KeyPair{PrivatePath: k.PrivatePath(), PublicPath: k.PublicPath(), PublicPEM: pub}
	out.Point, _ = fleetapi.ParsePublicKey(pub)
	old, err := readPrivate(k.PrivatePath())
	switch {
	case err == nil && !force:
		return out, fmt.Errorf("%w (%s)", ErrKeyExists, k.PrivatePath())
	case err == nil:
		out.Replaced = k.PrivatePath() + ".replaced-" + k.now().UTC().Format("20060102T150405Z")
		if err := accounts.WriteFile(out.Replaced, old); err != nil {
			return out, fmt.Errorf("cannot keep the old private key before replacing it, so nothing was replaced: %w", err)
		}
	case !errors.Is(err, ErrNoKey):
		return out, err
	}
	// The private key first: a public key without it would be useless,
	// and one left from an interrupted run is rewritten from it.
	if err := accounts.WriteFile(k.PrivatePath(), priv); err != nil {
		return out, err
	}
	if err := accounts.WriteFile(k.PublicPath(), pub); err != nil {
		return out, fmt.Errorf("the private key was saved, but not its public key: %w", err)
	}
	return out, nil
}

func (k Keys) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// Public reads the public key: its PEM as Tesla fetches it and its point.
// A key pair that does not exist matches ErrNoKey. Only a file that
// parses as an EC P-256 public key is returned: nothing else in the
// directory can come out this way.
func (k Keys) Public() (pemData, point []byte, err error) {
	data, err := readNoFollow(k.PublicPath())
	if err != nil {
		return nil, nil, err
	}
	point, err = fleetapi.ParsePublicKey(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", k.PublicPath(), err)
	}
	return data, point, nil
}

// Served is the public key's PEM for keyfob serve to publish: nothing
// (and no error) while there is no key pair.
func (k Keys) Served() ([]byte, error) {
	data, _, err := k.Public()
	if errors.Is(err, ErrNoKey) {
		return nil, nil
	}
	return data, err
}

// Private reads the private key, for the commands that sign with it.
func (k Keys) Private() (*ecdsa.PrivateKey, error) {
	data, err := readPrivate(k.PrivatePath())
	if err != nil {
		return nil, err
	}
	key, err := fleetapi.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.PrivatePath(), err)
	}
	return key, nil
}

// readPrivate reads a private key file, refusing one that others may read.
func readPrivate(path string) ([]byte, error) {
	data, fi, err := readFile(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s can be read by other users (mode %v); make it private with chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	return data, nil
}

func readNoFollow(path string) ([]byte, error) {
	data, _, err := readFile(path)
	return data, err
}

// readFile reads a regular file without following a symbolic link: the
// file opened must be the one Lstat found.
func readFile(path string) ([]byte, fs.FileInfo, error) {
	li, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w: %s does not exist; make one with keyfob partner keygen", ErrNoKey, path)
	}
	if err != nil {
		return nil, nil, err
	}
	if !li.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file (a symbolic link?); keyfob reads keys only from its own files", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !os.SameFile(li, fi) {
		return nil, nil, fmt.Errorf("%s changed while keyfob opened it; try again", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile))
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	return data, fi, nil
}

// ensureDir creates keyfob's directory, private, when it is missing.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	return nil
}
