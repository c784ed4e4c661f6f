package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Consumer is a program that gets the access tokens of one account from
// keyfob's token service instead of refreshing them itself, so that it
// never holds the account's single-use refresh token. It proves who it is
// with a credential that keyfob shows once; the store keeps only the
// credential's SHA-256.
type Consumer struct {
	Name      string `json:"name"`
	AccountID string `json:"account_id"`
	// Hash is the hex SHA-256 of the credential (see HashCredential).
	Hash      string    `json:"credential_sha256"`
	CreatedAt time.Time `json:"created_at"`
	// LastUsedAt and LastAddress are written now and then by the token
	// service, not on every request.
	LastUsedAt  time.Time `json:"last_used_at,omitzero"`
	LastAddress string    `json:"last_address,omitempty"`
}

// CredentialPrefix starts every consumer credential, so that one met in a
// configuration file, a log or a secret scanner's report is recognised as
// keyfob's (and not taken for a Tesla refresh token).
const CredentialPrefix = "keyfob_"

// credentialBytes is the randomness of a credential: 256 bits.
const credentialBytes = 32

// Errors about consumers that callers branch on.
var (
	// ErrConsumerNotFound means no consumer has the name.
	ErrConsumerNotFound = errors.New("no such consumer")
)

// NewCredential returns a fresh consumer credential: CredentialPrefix and
// 256 random bits in unpadded base64url.
func NewCredential() string {
	var b [credentialBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported systems
	return CredentialPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashCredential is what the store keeps of a credential: its SHA-256 in
// hex. Looking a credential up by its hash compares no secret byte by byte.
func HashCredential(cred string) string {
	sum := sha256.Sum256([]byte(cred))
	return hex.EncodeToString(sum[:])
}

// FindConsumer returns the consumer named name (case-insensitively), or nil.
func (f *File) FindConsumer(name string) *Consumer {
	for i := range f.Consumers {
		if strings.EqualFold(f.Consumers[i].Name, name) {
			return &f.Consumers[i]
		}
	}
	return nil
}

// ConsumersOf returns the consumers of the account with id.
func (f *File) ConsumersOf(id string) []Consumer {
	var out []Consumer
	for _, c := range f.Consumers {
		if c.AccountID == id {
			out = append(out, c)
		}
	}
	return out
}

// checkConsumers rejects consumer records that cannot be right: a bad or
// repeated name, a hash that is not a SHA-256, one credential twice.
func (f *File) checkConsumers() error {
	names := make(map[string]bool, len(f.Consumers))
	hashes := make(map[string]bool, len(f.Consumers))
	for i, c := range f.Consumers {
		lname := strings.ToLower(c.Name)
		switch {
		case ValidateName(c.Name) != nil:
			return fmt.Errorf("consumer %d has an invalid name: %w", i+1, ValidateName(c.Name))
		case names[lname]:
			return fmt.Errorf("two consumers are named %s", quoteShort(c.Name, 40))
		case len(c.Hash) != 2*sha256.Size || strings.Trim(c.Hash, "0123456789abcdef") != "":
			return fmt.Errorf("consumer %s has no valid credential_sha256 (64 lowercase hexadecimal digits)", quoteShort(c.Name, 40))
		case hashes[c.Hash]:
			return fmt.Errorf("two consumers share a credential")
		}
		names[lname], hashes[c.Hash] = true, true
	}
	return nil
}

// AddConsumer creates the consumer name for the account ref names and
// returns it with its credential, which exists nowhere else: the caller
// shows it once.
func (m *Manager) AddConsumer(ctx context.Context, name, ref string) (Consumer, string, error) {
	if err := ValidateName(name); err != nil {
		return Consumer{}, "", err
	}
	cred := NewCredential()
	c := Consumer{Name: name, Hash: HashCredential(cred), CreatedAt: m.now().UTC()}
	err := m.Store.Update(ctx, func(f *File) error {
		a, err := Resolve(f.Accounts, ref)
		if err != nil {
			return err
		}
		if other := f.FindConsumer(name); other != nil {
			return fmt.Errorf("%w: a consumer named %s already exists; remove it first or choose another name",
				ErrNameTaken, quoteShort(other.Name, 70))
		}
		c.AccountID = a.ID
		f.Consumers = append(f.Consumers, c)
		return nil
	})
	if err != nil {
		return Consumer{}, "", err
	}
	return c, cred, nil
}

// Consumers returns every consumer in store order.
func (m *Manager) Consumers() ([]Consumer, error) {
	f, err := m.Store.Load()
	if err != nil {
		return nil, err
	}
	return f.Consumers, nil
}

// RemoveConsumer deletes the consumer named name; its credential stops
// working as soon as a token service sees the store change.
func (m *Manager) RemoveConsumer(ctx context.Context, name string) (Consumer, error) {
	var out Consumer
	err := m.Store.Update(ctx, func(f *File) error {
		c := f.FindConsumer(name)
		if c == nil {
			return fmt.Errorf("%w: no consumer is named %s", ErrConsumerNotFound, quoteShort(name, 70))
		}
		out = *c
		f.Consumers = slices.DeleteFunc(f.Consumers, func(x Consumer) bool { return x.Hash == out.Hash })
		return nil
	})
	return out, err
}

// ConsumerUse is the last use of a consumer's credential that a token
// service saw.
type ConsumerUse struct {
	At      time.Time
	Address string
}

// RecordConsumerUses writes the last uses a token service collected, by
// credential hash, in one store write. A use older than the recorded one
// (another service flushed a later one) and consumers removed meanwhile
// are skipped.
func (m *Manager) RecordConsumerUses(ctx context.Context, uses map[string]ConsumerUse) error {
	if len(uses) == 0 {
		return nil
	}
	return m.Store.Update(ctx, func(f *File) error {
		for i := range f.Consumers {
			c := &f.Consumers[i]
			if u, ok := uses[c.Hash]; ok && u.At.After(c.LastUsedAt) {
				c.LastUsedAt, c.LastAddress = u.At.UTC(), u.Address
			}
		}
		return nil
	})
}
