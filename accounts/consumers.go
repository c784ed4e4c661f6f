package accounts

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
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

// ErrConsumerNotFound means no consumer has the name.
var ErrConsumerNotFound = errors.New("no such consumer")

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

// checkConsumers rejects consumer records that cannot be right: a bad or
// repeated name, a hash that is not a SHA-256, one credential twice.
func checkConsumers(cs []Consumer) error {
	names := make(map[string]bool, len(cs))
	hashes := make(map[string]bool, len(cs))
	for i, c := range cs {
		lname := strings.ToLower(c.Name)
		switch {
		case ValidateName(c.Name) != nil:
			return fmt.Errorf("consumer %d has an invalid name: %w", i+1, ValidateName(c.Name))
		case names[lname]:
			return fmt.Errorf("two consumers are named %s", quoteShort(c.Name, 40))
		case len(c.Hash) != 2*sha256.Size || strings.Trim(c.Hash, "0123456789abcdef") != "":
			return fmt.Errorf("consumer %s has no valid credential_sha256 (64 lowercase hexadecimal digits)", quoteShort(c.Name, 40))
		case !ValidID(c.AccountID):
			return fmt.Errorf("consumer %s names the account id %s, which keyfob did not make", quoteShort(c.Name, 40), quoteShort(c.AccountID, 20))
		case hashes[c.Hash]:
			return fmt.Errorf("two consumers share a credential")
		}
		names[lname], hashes[c.Hash] = true, true
	}
	return nil
}

// consumersRecord is what consumers.json holds.
type consumersRecord struct {
	Version   int        `json:"version"`
	Revision  int64      `json:"revision"`
	Consumers []Consumer `json:"consumers"`
}

// readConsumers reads consumers.json (none when it does not exist).
func (s *fileStore) readConsumers() ([]Consumer, int64, error) {
	path := s.path(consumersFile)
	data, _, err := readNoFollow(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		if errors.As(err, new(*SymlinkError)) {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("cannot read %s: %w; check its permissions", path, err)
	}
	return decodeConsumers(path, data)
}

func decodeConsumers(path string, data []byte) ([]Consumer, int64, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var r struct {
		Version   *int       `json:"version"`
		Revision  int64      `json:"revision"`
		Consumers []Consumer `json:"consumers"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, 0, corrupt(path, data, err)
	}
	switch {
	case r.Version == nil:
		return nil, 0, corrupt(path, data, errors.New(`the "version" field is missing`))
	case *r.Version > CurrentVersion:
		return nil, 0, &VersionError{Path: path, Version: *r.Version}
	case *r.Version != CurrentVersion:
		return nil, 0, corrupt(path, data, fmt.Errorf("version %d is not a version of keyfob's consumer file (%d)", *r.Version, CurrentVersion))
	}
	if err := checkConsumers(r.Consumers); err != nil {
		return nil, 0, corrupt(path, data, err)
	}
	return r.Consumers, r.Revision, nil
}

func (s *fileStore) writeConsumers(cs []Consumer, rev int64) error {
	if err := checkConsumers(cs); err != nil {
		return fmt.Errorf("keyfob refused to save %s: %w", s.path(consumersFile), err)
	}
	data, err := json.MarshalIndent(consumersRecord{Version: CurrentVersion, Revision: rev, Consumers: cs}, "", "  ")
	if err != nil {
		return err
	}
	return s.write(s.path(consumersFile), append(data, '\n'))
}

// AddConsumer creates the consumer name for the account ref names and
// returns it with its credential, which exists nowhere else: the caller
// shows it once.
func (m *Manager) AddConsumer(ctx context.Context, name, ref string) (Consumer, string, error) {
	defer m.holdPublish()()
	if err := ValidateName(name); err != nil {
		return Consumer{}, "", err
	}
	a, err := m.Find(ctx, ref)
	if err != nil {
		return Consumer{}, "", err
	}
	cred := NewCredential()
	c := Consumer{Name: name, AccountID: a.ID, Hash: HashCredential(cred), CreatedAt: m.now().UTC()}
	var after []Consumer
	err = m.update(ctx, func(t tx) error {
		if _, ok, err := t.get(a.ID); err != nil || !ok {
			return cmpErr(err, fmt.Errorf("%w: %q was removed meanwhile", ErrNotFound, a.Name))
		}
		cs, err := t.consumers()
		if err != nil {
			return err
		}
		if other := findConsumer(cs, name); other != nil {
			return fmt.Errorf("%w: a consumer named %s already exists; remove it first or choose another name",
				ErrNameTaken, quoteShort(other.Name, 70))
		}
		after = append(cs, c)
		t.setConsumers(after)
		return nil
	})
	if err != nil {
		return Consumer{}, "", err
	}
	m.publishedConsumers(after)
	return c, cred, nil
}

func findConsumer(cs []Consumer, name string) *Consumer {
	for i := range cs {
		if strings.EqualFold(cs[i].Name, name) {
			return &cs[i]
		}
	}
	return nil
}

// Consumers returns every consumer of the token service.
func (m *Manager) Consumers(ctx context.Context) ([]Consumer, error) {
	b, err := m.ready(ctx)
	if err != nil {
		return nil, err
	}
	return b.consumers(ctx)
}

// ConsumersOf returns the consumers of the account with id.
func (m *Manager) ConsumersOf(ctx context.Context, id string) ([]Consumer, error) {
	cs, err := m.Consumers(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(cs, func(c Consumer) bool { return c.AccountID != id }), nil
}

// RemoveConsumer deletes the consumer named name; its credential stops
// working as soon as a token service sees the store change.
func (m *Manager) RemoveConsumer(ctx context.Context, name string) (Consumer, error) {
	defer m.holdPublish()()
	var out Consumer
	var after []Consumer
	err := m.update(ctx, func(t tx) error {
		cs, err := t.consumers()
		if err != nil {
			return err
		}
		c := findConsumer(cs, name)
		if c == nil {
			return fmt.Errorf("%w: no consumer is named %s", ErrConsumerNotFound, quoteShort(name, 70))
		}
		out = *c
		after = slices.DeleteFunc(cs, func(x Consumer) bool { return x.Hash == out.Hash })
		t.setConsumers(after)
		return nil
	})
	if err == nil {
		m.publishedConsumers(after)
	}
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
	defer m.holdPublish()()
	if len(uses) == 0 {
		return nil
	}
	var after []Consumer
	err := m.update(ctx, func(t tx) error {
		cs, err := t.consumers()
		if err != nil {
			return err
		}
		changed := false
		for i := range cs {
			c := &cs[i]
			if u, ok := uses[c.Hash]; ok && u.At.After(c.LastUsedAt) {
				c.LastUsedAt, c.LastAddress = u.At.UTC(), u.Address
				changed = true
			}
		}
		if changed {
			t.setConsumers(cs)
			after = cs
		}
		return nil
	})
	if err == nil && after != nil {
		m.publishedConsumers(after)
	}
	return err
}

// cmpErr is err when it is not nil, else alt.
func cmpErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}
