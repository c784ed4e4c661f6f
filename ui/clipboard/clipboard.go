// Package clipboard is keyfob's one copy-and-clear mechanism, for both of
// its faces. Secrets go to the system clipboard where there is one, and
// in the TUI also through the terminal with OSC 52 (which reaches the
// user's machine over SSH and tmux); a copied secret is cleared after a
// delay, only if the clipboard still holds it.
//
// The clearing of the system clipboard is done by a small keyfob process
// of its own (Clearer, Serve), started detached from the one that copied,
// so a copied token leaves on time even when the copying process ends
// first: `keyfob token --copy` exits at once, and a TUI may be closed,
// hung up or killed. The clearer learns what to clear on its standard
// input — the delay and a SHA-256 of the secret, never the secret itself,
// and nothing derived from it on its command line. Model is the TUI's part:
// it also clears the terminal's clipboard while the program runs.
package clipboard

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// readWait is how long the terminal has to answer a clipboard read.
const readWait = 1500 * time.Millisecond

// Scheduler has a process of its own clear secret from the system
// clipboard after a delay (Clearer.Schedule), so a copied token goes
// even when keyfob is closed, hung up or killed first.
type Scheduler func(secret string, after time.Duration) error

// Messages of the clipboard's commands.
type (
	// ClearDue is due when the copy Seq should leave the clipboard.
	ClearDue struct{ Seq int }
	// ReadTimeout ends the wait for the terminal's answer about copy Seq.
	ReadTimeout struct{ Seq int }
	// clearedMsg reports a clearing; cleared is false when the clipboard
	// held something else by then.
	clearedMsg struct{ cleared bool }
	// wroteMsg reports the system clipboard's write of copy seq (err is
	// nil when it holds the text now) and the start of the clearer that
	// outlives the program (unscheduled is why it could not start).
	wroteMsg struct {
		seq         int
		label       string
		clear       time.Duration // 0: never cleared
		err         error
		unscheduled error
	}
)

// TerminalOnly is what a copy says when it went through the terminal
// alone (OSC 52): no answer tells keyfob it arrived, and tmux passes it
// on only with set-clipboard on.
const TerminalOnly = "through the terminal only (OSC 52; not confirmed — tmux needs set-clipboard on)"

// Model remembers the last secret copied, so it can be cleared later only
// if the clipboard still holds it. Create it with New.
type Model struct {
	native   Native    // nil: only the terminal's clipboard
	schedule Scheduler // nil: no clearer outlives the program
	seq      int       // bumped by every copy; a clearing is for one copy only
	value    string    // the secret waiting to be cleared ("" = none)
	awaiting int       // seq whose terminal clipboard read is pending
}

// New returns a clipboard that also writes to native (nil for none) and,
// when schedule is set, hands every secret copied there to a clearer that
// outlives the program.
func New(native Native, schedule Scheduler) *Model {
	return &Model{native: native, schedule: schedule}
}

// Seq is the number of the last copy.
func (m *Model) Seq() int { return m.seq }

// CopySecret puts a secret on both clipboards; after clearAfter (0 =
// never) it leaves them again, if they still hold it. label names it in
// the notice ("access token of home").
//
// The notice says where the copy went: the system clipboard (replaced by
// another if its write fails), or, without one, the terminal's alone,
// which keyfob cannot confirm.
func (m *Model) CopySecret(label, secret string, clearAfter time.Duration) (common.Notice, tea.Cmd) {
	m.seq++
	m.awaiting = 0
	m.value = ""
	cmds := []tea.Cmd{tea.SetClipboard(secret), m.writeCmd(secret, label, max(clearAfter, 0), true)}
	if clearAfter > 0 {
		m.value = secret
		seq := m.seq
		cmds = append(cmds, tea.Tick(clearAfter, func(time.Time) tea.Msg { return ClearDue{Seq: seq} }))
	}
	return m.copyNotice(label, max(clearAfter, 0)), tea.Batch(cmds...)
}

// CopyText copies something that is not a secret (an address).
func (m *Model) CopyText(what, text string) (common.Notice, tea.Cmd) {
	m.seq++
	m.value = ""
	m.awaiting = 0
	return m.copyNotice(what, 0), tea.Batch(tea.SetClipboard(text), m.writeCmd(text, what, 0, false))
}

// copyNotice is the notice of a copy as it starts: to the system clipboard
// (whose write takes milliseconds; a failure replaces the notice), or
// through the terminal alone.
func (m *Model) copyNotice(label string, clear time.Duration) common.Notice {
	if m.native != nil {
		return common.Notice{Text: "copied " + label + " to the system clipboard" + clears(clear), Tone: present.ToneOK}
	}
	return common.Notice{Text: "copied " + label + " " + TerminalOnly + clears(clear), Tone: present.ToneWarn}
}

// clears is the end of a copy's notice: when it leaves the clipboard.
func clears(after time.Duration) string {
	if after <= 0 {
		return ""
	}
	return " — clears in " + present.Delay(after)
}

// writeCmd writes s to the system clipboard, if there is one, then, for a
// secret to clear (clear > 0), starts the clearer that outlives the
// program; the program's own timer still clears both clipboards on time
// while it runs (only it can reach the terminal's). It reports how both
// went (wroteMsg).
func (m *Model) writeCmd(s, label string, clear time.Duration, secret bool) tea.Cmd {
	n, schedule := m.native, m.schedule
	if n == nil {
		return nil
	}
	seq := m.seq
	return func() tea.Msg {
		msg := wroteMsg{seq: seq, label: label, clear: clear, err: n.WriteAll(s)}
		if msg.err == nil && secret && clear > 0 && schedule != nil {
			msg.unscheduled = schedule(s, clear)
		}
		return msg
	}
}

// onWrote says where copy msg went, unless a newer copy says it now.
func (m *Model) onWrote(msg wroteMsg) common.Notice {
	if msg.seq != m.seq {
		return common.Notice{}
	}
	if msg.err != nil {
		return common.Notice{Text: "copied " + msg.label + " " + TerminalOnly + ": the system clipboard failed (" +
			present.OneLine(msg.err.Error()) + ")" + clears(msg.clear), Tone: present.ToneWarn}
	}
	if msg.unscheduled != nil {
		return common.Notice{Text: "copied " + msg.label + " to the system clipboard, but no clearer could be started (" +
			present.OneLine(msg.unscheduled.Error()) + "): the copy is cleared only if keyfob is still open then", Tone: present.ToneWarn}
	}
	return common.Notice{} // as copyNotice said
}

// Update handles the clipboard's messages. It reports whether msg was one;
// the notice, when not empty, says the clipboard was cleared.
func (m *Model) Update(msg tea.Msg) (common.Notice, tea.Cmd, bool) {
	switch msg := msg.(type) {
	case ClearDue:
		return common.Notice{}, m.onClearDue(msg), true
	case ReadTimeout:
		return common.Notice{}, m.onReadTimeout(msg), true
	case wroteMsg:
		return m.onWrote(msg), nil, true
	case tea.ClipboardMsg:
		return common.Notice{}, m.onRead(msg), true
	case clearedMsg:
		if msg.cleared {
			return common.Notice{Text: "clipboard cleared", Tone: present.ToneMuted}, nil, true
		}
		return common.Notice{}, nil, true
	}
	return common.Notice{}, nil, false
}

// onClearDue clears the clipboard when the copied secret is due to go,
// provided nothing else was copied since.
func (m *Model) onClearDue(msg ClearDue) tea.Cmd {
	if msg.Seq != m.seq || m.value == "" {
		return nil // a newer copy replaced it
	}
	if m.native != nil {
		value := m.value
		m.value = ""
		return clearCmd(m.native, value)
	}
	// Only the terminal holds it: ask the terminal what its clipboard
	// holds; the secret is kept to compare with the answer.
	m.awaiting = msg.Seq
	seq := msg.Seq
	return tea.Batch(tea.ReadClipboard,
		tea.Tick(readWait, func(time.Time) tea.Msg { return ReadTimeout{Seq: seq} }))
}

// onRead compares the terminal's clipboard with the secret.
func (m *Model) onRead(msg tea.ClipboardMsg) tea.Cmd {
	if m.awaiting == 0 {
		return nil
	}
	value := m.value
	m.awaiting, m.value = 0, ""
	if msg.Content != value {
		return nil // the user copied something else meanwhile
	}
	return clearCmd(nil, value)
}

// onReadTimeout handles terminals that do not answer clipboard reads:
// keyfob cannot tell whether the token is still there, and clears it,
// since leaving a live token behind is the worse mistake.
func (m *Model) onReadTimeout(msg ReadTimeout) tea.Cmd {
	if m.awaiting != msg.Seq {
		return nil
	}
	value := m.value
	m.awaiting, m.value = 0, ""
	return clearCmd(nil, value)
}

// ClearOnQuit clears a secret that is still waiting to be cleared, since
// no timer survives the program.
func (m *Model) ClearOnQuit() tea.Cmd {
	if m.value == "" {
		return nil
	}
	value := m.value
	m.value = ""
	return clearCmd(m.native, value)
}

// clearCmd empties both clipboards if the native one (when there is one)
// still holds value.
func clearCmd(native Native, value string) tea.Cmd {
	return func() tea.Msg {
		if native != nil {
			cur, err := native.ReadAll()
			if err == nil && cur != value {
				return clearedMsg{cleared: false}
			}
			_ = native.WriteAll("")
		}
		return tea.BatchMsg{tea.SetClipboard(""), func() tea.Msg { return clearedMsg{cleared: true} }}
	}
}
