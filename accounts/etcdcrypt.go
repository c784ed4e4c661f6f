package accounts

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// A store key encrypts the secrets that an etcd store holds: each
// account's access, refresh and id tokens and its client secret are
// sealed one by one with AES-256-GCM, so that etcd, its backups and its
// snapshots hold no token in plain text. The key is 32 random bytes in
// base64, as `openssl rand -base64 32` writes them, in a file only its
// owner can read.

// storeKeySize is the size of a store key: AES-256.
const storeKeySize = 32

// sealedPrefix starts every sealed value: "kf1:KEYID:BASE64", KEYID the
// key's id (see storeKey.id) and BASE64 the nonce and the ciphertext.
const sealedPrefix = "kf1:"

// storeKey is a loaded store key.
type storeKey struct {
	path string
	aead cipher.AEAD
	// check is an HMAC of a fixed text under the key: the store's meta
	// keeps it, so that a wrong key is told at once, before any value is
	// read, and without the key being kept anywhere.
	check string
}

// KeyFileError says why a store key file cannot be used.
type KeyFileError struct {
	Path    string
	Problem string
}

func (e *KeyFileError) Error() string {
	return fmt.Sprintf("the store key file %s cannot be used: %s", e.Path, e.Problem)
}

// loadStoreKey reads the key file at path: base64 of 32 bytes, readable
// by its owner alone (a key anyone can read protects nothing).
func loadStoreKey(path string) (*storeKey, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &KeyFileError{Path: path, Problem: "it does not exist; create one with: openssl rand -base64 32 > FILE && chmod 600 FILE"}
	case err != nil:
		return nil, &KeyFileError{Path: path, Problem: err.Error()}
	case !fi.Mode().IsRegular():
		return nil, &KeyFileError{Path: path, Problem: "it is not a regular file"}
	case fi.Mode().Perm()&0o077 != 0:
		return nil, &KeyFileError{Path: path, Problem: fmt.Sprintf("others can read it (%v); run chmod 600 %s", fi.Mode().Perm(), path)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &KeyFileError{Path: path, Problem: err.Error()}
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(raw) != storeKeySize {
		return nil, &KeyFileError{Path: path, Problem: "it does not hold 32 bytes in base64; create one with: openssl rand -base64 32"}
	}
	return newStoreKey(path, raw)
}

func newStoreKey(path string, raw []byte) (*storeKey, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, raw)
	mac.Write([]byte("keyfob store key check v1"))
	return &storeKey{path: path, aead: aead, check: hex.EncodeToString(mac.Sum(nil))}, nil
}

// id names the key in sealed values and messages: the start of its check.
func (k *storeKey) id() string { return k.check[:12] }

// seal encrypts plain for the place named by where (the value's key and
// field), which is authenticated with it: a sealed token moved to another
// account or field does not open.
func (k *storeKey) seal(plain, where string) string {
	if plain == "" {
		return ""
	}
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := k.aead.Seal(nonce, nonce, []byte(plain), []byte(where))
	return sealedPrefix + k.id() + ":" + base64.RawStdEncoding.EncodeToString(out)
}

// errOtherKey says that a value was sealed under another store key.
var errOtherKey = errors.New("sealed under another store key")

// open decrypts a value seal made for where.
func (k *storeKey) open(sealed, where string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", errors.New("a secret is in plain text in an encrypted store")
	}
	id, body, ok := strings.Cut(rest, ":")
	if !ok {
		return "", errors.New("a sealed secret is malformed")
	}
	if id != k.id() {
		return "", fmt.Errorf("%w (key %s, not %s)", errOtherKey, id, k.id())
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(raw) < k.aead.NonceSize() {
		return "", errors.New("a sealed secret is malformed")
	}
	plain, err := k.aead.Open(nil, raw[:k.aead.NonceSize()], raw[k.aead.NonceSize():], []byte(where))
	if err != nil {
		return "", errors.New("a sealed secret does not open with the store key (altered, or moved from elsewhere)")
	}
	return string(plain), nil
}

// sealedFields are an account's secrets, by the name they are sealed
// under.
func sealedFields(a *Account) map[string]*string {
	return map[string]*string{
		"access_token": &a.AccessToken, "refresh_token": &a.RefreshToken,
		"id_token": &a.IDToken, "client_secret": &a.ClientSecret,
	}
}

// sealAccount returns a with every secret sealed for the record key.
func (k *storeKey) sealAccount(a Account, key string) Account {
	for name, p := range sealedFields(&a) {
		*p = k.seal(*p, key+"#"+name)
	}
	return a
}

// openAccount returns a with every secret opened.
func (k *storeKey) openAccount(a Account, key string) (Account, error) {
	for name, p := range sealedFields(&a) {
		plain, err := k.open(*p, key+"#"+name)
		if err != nil {
			return Account{}, fmt.Errorf("its %s: %w", name, err)
		}
		*p = plain
	}
	return a, nil
}
