package accounts

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
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

// ConfigPath is the settings file of the store.
func (s *Store) ConfigPath() string { return filepath.Join(s.dir, ConfigFile) }

// LoadConfig reads the settings; a missing file gives the defaults.
func (s *Store) LoadConfig() (Config, error) {
	var c Config
	data, _, err := readNoFollow(s.ConfigPath())
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	var link *SymlinkError
	if errors.As(err, &link) {
		return c, err
	}
	if err != nil {
		return c, fmt.Errorf("cannot read %s: %w", s.ConfigPath(), err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("%s is not valid: %w; fix or remove it", s.ConfigPath(), err)
	}
	return c, nil
}

// SaveConfig writes the settings atomically (0600).
func (s *Store) SaveConfig(c Config) error {
	if err := s.ensureDir(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return s.write(s.ConfigPath(), append(data, '\n'))
}
