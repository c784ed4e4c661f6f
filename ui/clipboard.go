package ui

import (
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/atotto/clipboard"
)

// Clipboard is the system clipboard outside the terminal (X11, Wayland,
// macOS, Windows). Tokens also go through the terminal with OSC 52, which
// reaches the user's machine over SSH and tmux; this one covers terminals
// without OSC 52.
type Clipboard interface {
	ReadAll() (string, error)
	WriteAll(text string) error
}

type systemClipboard struct{}

func (systemClipboard) ReadAll() (string, error) { return clipboard.ReadAll() }
func (systemClipboard) WriteAll(s string) error  { return clipboard.WriteAll(s) }

// nativeClipboard is the system clipboard, or nil where there is none (no
// xclip, xsel or wl-copy on Linux).
func nativeClipboard() Clipboard {
	if clipboard.Unsupported {
		return nil
	}
	return systemClipboard{}
}

// clipState remembers the last secret copied, so it can be cleared later
// only if the clipboard still holds it.
type clipState struct {
	seq      int    // bumped by every copy; a clear is for one copy only
	value    string // the secret waiting to be cleared ("" = none)
	awaiting int    // seq whose terminal clipboard read is pending
}

// copyToken copies an account's access or refresh token.
func (m *Model) copyToken(r *row, refresh bool) tea.Cmd {
	what, tok := "access token", r.acct.AccessToken
	if refresh {
		what, tok = "refresh token", r.acct.RefreshToken
	}
	if tok == "" {
		hint := "refresh it with r or sign in again with n"
		if refresh {
			hint = "it gets a new token from its client credentials instead"
			if !r.acct.UsesClientCredentials() {
				hint = "sign in again with n"
			}
		}
		return m.setToast(fmt.Sprintf("%s has no %s; %s", r.acct.Name, what, hint), statusWarn)
	}
	return m.copySecret(what+" of "+r.acct.Name, tok)
}

// copySecret puts a secret on both clipboards and schedules its clearing.
func (m *Model) copySecret(label, secret string) tea.Cmd {
	m.clip.seq++
	m.clip.awaiting = 0
	cmds := []tea.Cmd{tea.SetClipboard(secret), m.nativeWriteCmd(secret)}
	after := m.cfg.ClearAfter()
	if after <= 0 {
		m.clip.value = ""
		return tea.Batch(append(cmds, m.setToast("copied "+label, statusOK))...)
	}
	m.clip.value = secret
	seq := m.clip.seq
	cmds = append(cmds,
		tea.Tick(after, func(time.Time) tea.Msg { return clipClearMsg{seq: seq} }),
		m.setToast(fmt.Sprintf("copied %s — clears in %s", label, shortDuration(after)), statusOK))
	return tea.Batch(cmds...)
}

// copyText copies something that is not a secret (an address).
func (m *Model) copyText(what, text string) tea.Cmd {
	m.clip.seq++
	m.clip.value = ""
	m.clip.awaiting = 0
	return tea.Batch(tea.SetClipboard(text), m.nativeWriteCmd(text), m.setToast("copied "+what, statusOK))
}

func (m *Model) nativeWriteCmd(s string) tea.Cmd {
	n := m.native
	if n == nil {
		return nil
	}
	return func() tea.Msg {
		// OSC 52 went out too; a failure here only matters where the
		// terminal ignores it, and the user sees the token missing.
		_ = n.WriteAll(s)
		return nil
	}
}

// onClipClear clears the clipboard when the copied secret is due to go,
// provided nothing else was copied since.
func (m *Model) onClipClear(msg clipClearMsg) tea.Cmd {
	if msg.seq != m.clip.seq || m.clip.value == "" {
		return nil // a newer copy replaced it
	}
	if m.native != nil {
		value := m.clip.value
		m.clip.value = ""
		return clearClipboardCmd(m.native, value)
	}
	// Only the terminal holds it: ask the terminal what its clipboard
	// holds; the secret is kept to compare with the answer.
	m.clip.awaiting = msg.seq
	seq := msg.seq
	return tea.Batch(tea.ReadClipboard,
		tea.Tick(clipReadWait, func(time.Time) tea.Msg { return clipReadTimeoutMsg{seq: seq} }))
}

// onClipboardRead compares the terminal's clipboard with the secret.
func (m *Model) onClipboardRead(msg tea.ClipboardMsg) tea.Cmd {
	if m.clip.awaiting == 0 {
		return nil
	}
	value := m.clip.value
	m.clip.awaiting, m.clip.value = 0, ""
	if msg.Content != value {
		return nil // the user copied something else meanwhile
	}
	return clearClipboardCmd(nil, value)
}

// onClipReadTimeout handles terminals that do not answer clipboard reads:
// keyfob cannot tell whether the token is still there, and clears it,
// since leaving a live token behind is the worse mistake.
func (m *Model) onClipReadTimeout(msg clipReadTimeoutMsg) tea.Cmd {
	if m.clip.awaiting != msg.seq {
		return nil
	}
	value := m.clip.value
	m.clip.awaiting, m.clip.value = 0, ""
	return clearClipboardCmd(nil, value)
}

// clearOnQuit clears a secret that is still waiting to be cleared, since
// no timer survives the program.
func (m *Model) clearOnQuit() tea.Cmd {
	if m.clip.value == "" {
		return nil
	}
	value := m.clip.value
	m.clip.value = ""
	return clearClipboardCmd(m.native, value)
}

// clearClipboardCmd empties both clipboards if the native one (when there
// is one) still holds value.
func clearClipboardCmd(native Clipboard, value string) tea.Cmd {
	return func() tea.Msg {
		if native != nil {
			cur, err := native.ReadAll()
			if err == nil && cur != value {
				return clipClearedMsg{cleared: false}
			}
			_ = native.WriteAll("")
		}
		return tea.BatchMsg{tea.SetClipboard(""), msgCmd(clipClearedMsg{cleared: true})}
	}
}

// shortDuration writes a delay the way the toast says it: "30 s", "2 min".
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d%time.Minute == 0:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return d.Round(time.Second).String()
}
