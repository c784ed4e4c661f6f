package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Config is keyfob's settings file, config.json beside the store.
type Config struct {
	// Theme names the TUI theme ("" = the default).
	Theme string `json:"theme,omitempty"`
	// RefreshMargin: the TUI refreshes tokens this close to expiry.
	RefreshMargin Duration `json:"refresh_margin,omitempty"`
	// ClipboardClear: copied tokens are cleared after this long (0 = default,
	// negative = never).
	ClipboardClear Duration `json:"clipboard_clear,omitempty"`
	// DefaultAccount is the account commands use when none is named.
	DefaultAccount string `json:"default_account,omitempty"`
	// AutoRefresh turns the TUI's auto-refresh off when false.
	AutoRefresh *bool `json:"auto_refresh,omitempty"`
	// RedirectURIs remembers, by client id, the redirect URI of the last
	// Fleet API login that succeeded with it. Tesla accepts only the
	// redirect URIs registered for an app, matched exactly, so the next
	// login of the same app needs none.
	RedirectURIs map[string]string `json:"redirect_uris,omitempty"`
}

// Defaults for the settings.
const (
	DefaultRefreshMargin  = 5 * time.Minute
	DefaultClipboardClear = 30 * time.Second
)

// Margin is the auto-refresh margin, defaulted.
func (c Config) Margin() time.Duration {
	if c.RefreshMargin <= 0 {
		return DefaultRefreshMargin
	}
	return time.Duration(c.RefreshMargin)
}

// ClearAfter is the clipboard clear delay, defaulted; 0 means never.
func (c Config) ClearAfter() time.Duration {
	switch {
	case c.ClipboardClear < 0:
		return 0
	case c.ClipboardClear == 0:
		return DefaultClipboardClear
	}
	return time.Duration(c.ClipboardClear)
}

// AutoRefreshOn reports whether auto-refresh is on (the default).
func (c Config) AutoRefreshOn() bool { return c.AutoRefresh == nil || *c.AutoRefresh }

// Duration is a time.Duration written as "5m" in JSON.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON implements json.Unmarshaler; it takes "5m" or seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err2 := json.Unmarshal(b, &secs); err2 != nil {
			return fmt.Errorf("a duration must be a string like \"5m\" or a number of seconds")
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration like \"5m\" or \"30s\"", s)
	}
	*d = Duration(v)
	return nil
}

// ConfigPath is the settings file.
func (m *Manager) ConfigPath() string { return filepath.Join(m.dir, ConfigFile) }

// Config reads the settings; a missing file gives the defaults.
func (m *Manager) Config() (Config, error) {
	var c Config
	path := m.ConfigPath()
	data, _, err := readNoFollow(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	var link *SymlinkError
	if errors.As(err, &link) {
		return c, err
	}
	if err != nil {
		return c, fmt.Errorf("cannot read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("%s is not valid: %w; fix or remove it", path, err)
	}
	return c, nil
}

// SaveConfig writes the settings atomically (0600).
func (m *Manager) SaveConfig(c Config) error {
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the keyfob directory %s: %w", m.dir, err)
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return m.files().write(m.ConfigPath(), append(data, '\n'))
}

// UpdateConfig changes the settings: under a lock of its own it reads
// config.json again, lets fn change it and writes it, so a setting another
// process changed meanwhile is kept.
func (m *Manager) UpdateConfig(ctx context.Context, fn func(*Config)) error {
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the keyfob directory %s: %w", m.dir, err)
	}
	unlock, err := m.files().lock(ctx, filepath.Join(m.dir, configLock), "the settings file")
	if err != nil {
		return err
	}
	defer unlock()
	c, err := m.Config()
	if err != nil {
		return err
	}
	fn(&c)
	return m.SaveConfig(c)
}

// files writes keyfob's own files (settings, keys) the way a file store
// writes its records.
func (m *Manager) files() *fileStore {
	if fs, ok := m.b.(*fileStore); ok && fs.dir == m.dir {
		return fs
	}
	return &fileStore{dir: m.dir, notice: m.notice}
}

// RedirectFor returns the redirect URI remembered for a client id, or ""
// (also when the settings cannot be read: the user then gives one).
func (m *Manager) RedirectFor(clientID string) string {
	c, err := m.Config()
	if err != nil || clientID == "" {
		return ""
	}
	return c.RedirectURIs[clientID]
}

// RememberRedirect remembers uri as the redirect URI of a client id.
// Nothing is written when it is already the one remembered.
func (m *Manager) RememberRedirect(ctx context.Context, clientID, uri string) error {
	if clientID == "" || uri == "" || m.RedirectFor(clientID) == uri {
		return nil
	}
	return m.UpdateConfig(ctx, func(c *Config) {
		if c.RedirectURIs == nil {
			c.RedirectURIs = map[string]string{}
		}
		c.RedirectURIs[clientID] = uri
	})
}
