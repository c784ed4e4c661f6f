package ui

import (
	"bytes"
	"context"
	"image/color"
	"reflect"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/themes"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/keyfobtest"
	"github.com/keyfob/keyfob/ui/list"
	"github.com/keyfob/keyfob/ui/present"
)

// An idle screen costs one tick a second: the tick re-arms itself and
// nothing else (the store is watched outside Update: see waitCmd); and a
// spinner frame that arrives with nothing refreshing stops the spinner
// instead of re-arming it.
func TestIdleScreenSchedulesOnlyTheTick(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures()[:2], 80, 24)
	off := false
	m.cfg.AutoRefresh = &off
	for range 2 {
		_, cmd := m.Update(tickMsg(time.Now()))
		if cmd == nil {
			t.Fatal("the tick did not re-arm")
		}
		if msg := cmd(); reflect.TypeOf(msg) != reflect.TypeOf(tickMsg{}) {
			t.Fatalf("an idle tick scheduled %T, want only the next tick", msg)
		}
	}
	m.spinning = true
	if _, cmd := m.Update(spinner.TickMsg{ID: m.spin.ID()}); cmd != nil || m.spinning {
		t.Error("the spinner keeps turning with nothing to refresh")
	}
}

func TestSpinnerTurnsOnlyWhileRefreshing(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures(), 80, 24)
	if m.spinning {
		t.Fatal("the spinner turns on an idle screen")
	}
	d := newDriver(t, m)
	d.Press("r")
	if !m.spinning {
		t.Fatal("a refresh did not start the spinner")
	}
	d.Until("the refresh", func() bool { return !m.sched.Busy() }) // it fails: no server here
	if _, cmd := m.Update(spinner.TickMsg{ID: m.spin.ID()}); cmd != nil || m.spinning {
		t.Error("the spinner did not stop after the refresh")
	}
}

func TestBackgroundColourRebuildsStyles(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures(), 80, 24)
	if !m.isDark {
		t.Fatal("keyfob should assume a dark background until the terminal answers")
	}
	th, _ := themes.Get(themes.Default)
	m.Update(tea.BackgroundColorMsg{Color: color.White})
	if m.isDark {
		t.Fatal("a white background was taken for a dark one")
	}
	if got, want := m.c.Styles.Text.GetForeground(), th.Colors(false).Text; got != want {
		t.Errorf("text colour %v on a light background, want %v", got, want)
	}
}

// A resize lays the list out again at once (the columns and their
// priorities are tested in ui/list).
func TestResizeDropsColumns(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures(), 120, 40)
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 20})
	if s := plain(m); strings.Contains(s, "EMAIL") || !strings.Contains(s, "STATUS") {
		t.Errorf("after a resize to 60 columns:\n%s", s)
	}
}

func TestCountdownFormat(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		7*time.Hour + 41*time.Minute + 9*time.Second:    "7h 41m 09s",
		41*time.Minute + 9*time.Second:                  "41m 09s",
		9 * time.Second:                                 "9s",
		-time.Second:                                    "0s",
		44*24*time.Hour + 23*time.Hour + 59*time.Minute: "44d 23h 59m",
	} {
		if got := present.Countdown(d); got != want {
			t.Errorf("countdown(%v) = %q, want %q", d, got, want)
		}
	}
	now := keyfobtest.Now
	for left, want := range map[time.Duration]present.Urgency{
		2 * time.Hour: present.UrgencyFine, 59 * time.Minute: present.UrgencyWarning,
		9 * time.Minute: present.UrgencyCritical, 0: present.UrgencyExpired, -time.Hour: present.UrgencyExpired,
	} {
		if got := present.UrgencyOf(now.Add(left), now); got != want {
			t.Errorf("urgency with %v left = %v, want %v", left, got, want)
		}
	}
	if present.UrgencyOf(time.Time{}, now) != present.UrgencyNone {
		t.Error("an unknown expiry has an urgency")
	}
}

// Every state reads as a word and a symbol, without colour.
func TestStatusesReadWithoutColour(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, a := range keyfobtest.Fixtures() {
		text := list.NewRow(a).Status(keyfobtest.Now, common.NoJob).String()
		if !strings.ContainsAny(text, "✓!✗⊘⊗") || len(strings.Fields(text)) < 2 {
			t.Errorf("%s: status %q lacks a symbol or a word", a.Name, text)
		}
		seen[strings.Fields(text)[1]] = true
	}
	for _, w := range []string{"valid", "expiring", "expired", "revoked", "login", "refresh"} {
		if !seen[w] {
			t.Errorf("no fixture shows the %q status", w)
		}
	}
	r := list.NewRow(keyfobtest.Fixtures()[0])
	if text := r.Status(keyfobtest.Now, common.Refreshing).String(); text != "refreshing" {
		t.Errorf("a row being refreshed reads %q", text)
	}
}

func TestNewRejectsAnUnknownTheme(t *testing.T) {
	t.Parallel()
	mgr := keyfobtest.Manager(t, nil, accounts.Options{Auth: keyfobtest.NoServer{}})
	_, err := New(context.Background(), Options{Manager: mgr, Theme: "neon"})
	if err == nil || !strings.Contains(err.Error(), "dracula") {
		t.Fatalf("error %v; want one listing the themes", err)
	}
	m, err := New(context.Background(), Options{Manager: mgr, Config: accounts.Config{Theme: "neon"}})
	if err != nil || m.theme.Name != themes.Default || !strings.Contains(m.toast.text, "neon") {
		t.Fatalf("an unknown theme in the config should fall back with a note: %v %q", err, m.toast.text)
	}
	if _, err := New(context.Background(), Options{}); err == nil {
		t.Error("New without a manager succeeded")
	}
}

// Run drives a real program: keys from Input, the screen to Output.
func TestRunQuitsOnQ(t *testing.T) {
	t.Parallel()
	mgr := keyfobtest.Manager(t, keyfobtest.Fixtures(), accounts.Options{Auth: keyfobtest.NoServer{}})
	var out bytes.Buffer
	off := false
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Options{
			Manager: mgr, Config: accounts.Config{AutoRefresh: &off},
			Input: strings.NewReader("q"), Output: &out,
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after q")
	}
}

func TestRunEndsWithTheContext(t *testing.T) {
	t.Parallel()
	mgr := keyfobtest.Manager(t, keyfobtest.Fixtures(), accounts.Options{Auth: keyfobtest.NoServer{}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	pr, pw := ioPipe()
	defer pw.Close()
	off := false
	go func() {
		done <- Run(ctx, Options{Manager: mgr, Config: accounts.Config{AutoRefresh: &off}, Input: pr, Output: &bytes.Buffer{}})
	}()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v after its context ended; want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// A key that does not apply says why instead of doing nothing.
func TestDisabledKeysExplainThemselves(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures(), 100, 30)
	press(m, "G") // sold: revoked, no tokens
	for k, want := range map[string]string{
		"r": "was revoked", "c": "no access token", "C": "no refresh token", "x": "already revoked",
	} {
		m.toast = toast{}
		press(m, k)
		if !strings.Contains(m.toast.text, want) || m.dialogs.Len() != 0 {
			t.Errorf("%s on a revoked account: toast %q, %d dialogs; want %q", k, m.toast.text, m.dialogs.Len(), want)
		}
	}
}

// The detail page follows every change at once, not at the next tick: a
// resize and a theme change give the page a fresh model would show.
func TestDetailFollowsResizeAndTheme(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures(), 120, 40)
	press(m, "enter")
	m.Update(tea.WindowSizeMsg{Width: 70, Height: 30})
	fresh := newViewModel(t, keyfobtest.Fixtures(), 70, 30)
	press(fresh, "enter")
	if got, want := plain(m), plain(fresh); got != want {
		t.Errorf("after a resize the detail page is\n%s\nwant\n%s", got, want)
	}
	press(m, "t")
	press(fresh, "esc", "t", "enter")
	if got, want := m.View().Content, fresh.View().Content; got != want {
		t.Errorf("after a theme change the detail page is\n%q\nwant\n%q", got, want)
	}
}

// A refresh refused because another keyfob already found the account dead
// shows the account as it is now, with what to do in this screen's words.
func TestRefreshOfAnAccountRevokedElsewhere(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures(), 100, 30)
	revoked := keyfobtest.Fixtures()[0]
	revoked.State, revoked.AccessToken, revoked.RefreshToken = accounts.StateRevoked, "", ""
	keyfobtest.Manager(t, []accounts.Account{revoked}, accounts.Options{Dir: m.c.Manager.Dir()}) // another keyfob
	d := newDriver(t, m)
	d.Press("r") // the screen still shows home as it was
	d.Until("the refresh", func() bool { return !m.sched.Busy() })
	r := m.list.Rows()[0]
	if r.Account().State != accounts.StateRevoked || m.sched.Busy() {
		t.Errorf("state %q, busy %v; want revoked, idle", r.Account().State, m.sched.Busy())
	}
	if want := "home was revoked; sign in again with n"; m.toast.text != want {
		t.Errorf("toast %q, want %q", m.toast.text, want)
	}
}

// c on an account without an access token offers a refresh only where a
// refresh can work: a revoked account or one whose refresh token was
// rejected needs a new login.
func TestCopyWithoutTokenOffersOnlyWhatWorks(t *testing.T) {
	t.Parallel()
	accts := keyfobtest.Fixtures()
	dead := accts[4] // old-car: login required
	dead.AccessToken = ""
	accts[4] = dead
	m := newViewModel(t, accts, 100, 30)
	for _, c := range []struct {
		name, want string
	}{{"sold", "was revoked; sign in again with n"}, {"old-car", "rejected; sign in again with n"}} {
		m.list.Select(rowID(t, m, c.name))
		m.toast = toast{}
		press(m, "c")
		if !strings.Contains(m.toast.text, c.want) || strings.Contains(m.toast.text, "refresh it") {
			t.Errorf("c on %s: toast %q, want %q and no offer to refresh", c.name, m.toast.text, c.want)
		}
	}
}

// rowID is the id of the account named name.
func rowID(t *testing.T, m *Model, name string) string {
	t.Helper()
	for _, r := range m.list.Rows() {
		if r.Name() == name {
			return r.ID()
		}
	}
	t.Fatalf("no account %s", name)
	return ""
}

// A toast too long for the screen wraps instead of losing its end, where
// an error says what to do; the screen keeps its height and the list
// makes room, the selected row still in sight.
func TestLongToastWrapsAt80Columns(t *testing.T) {
	t.Parallel()
	for _, detail := range []bool{false, true} {
		m := newViewModelAuth(t, keyfobtest.Cars(40), 80, 24, rejecting{})
		press(m, "G")
		if detail {
			press(m, "enter")
		}
		r := m.current()
		d := newDriver(t, m)
		d.Press("r") // the server rejects the refresh token
		d.Until("the refresh", func() bool { return !m.sched.Busy() })
		out := plain(m)
		keyfobtest.CheckScreen(t, out, 80, 24)
		flat := strings.Join(strings.Fields(out), " ")
		if !strings.Contains(flat, "the server rejected its refresh token — sign in again with n") {
			t.Errorf("detail %v: the toast lost its end:\n%s", detail, out)
		}
		if n := strings.Count(out, "\n") + 1; n != 24 {
			t.Errorf("detail %v: %d lines, want 24", detail, n)
		}
		if !detail && !strings.Contains(out, "› "+r.Name()) {
			t.Errorf("the selected row %s is out of sight:\n%s", r.Name(), out)
		}
	}
}

// A dialog taller than the screen loses lines from its middle, never its
// title, its buttons or its key line.
func TestTallDialogKeepsItsButtons(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures(), 40, 12)
	press(m, "x")
	out := plain(m)
	keyfobtest.CheckScreen(t, out, 40, 12)
	for _, want := range []string{"Revoke home?", "y revoke", "esc cancel", "╰"} {
		if !strings.Contains(out, want) {
			t.Errorf("the revoke dialog at 40×12 lacks %q:\n%s", want, out)
		}
	}
}

// After the screen narrows, the wizard's form shows a part of each long
// value on its own line: no value wraps onto the next.
func TestWizardFormFollowsANarrowerScreen(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures(), 120, 30)
	press(m, "n", "enter", "enter")
	wide := strings.Count(dialogBox(m), "\n")
	m.Update(tea.WindowSizeMsg{Width: 40, Height: 30})
	narrow := dialogBox(m)
	fresh := newViewModel(t, keyfobtest.Fixtures(), 40, 30)
	press(fresh, "n", "enter", "enter")
	if narrow != dialogBox(fresh) {
		t.Errorf("after narrowing, the form is\n%s\nwant, as a fresh one,\n%s", narrow, dialogBox(fresh))
	}
	if n := strings.Count(narrow, "\n"); n > wide+3 { // the help line may wrap
		t.Errorf("%d lines at 40 columns, %d at 120:\n%s", n, wide, narrow)
	}
}

// dialogBox is the plain text of the dialog on top.
func dialogBox(m *Model) string { return ansi.Strip(m.dialogs.Top().View()) }

// After the screen narrows, the open filter shows the end of a long query,
// where its cursor is, within the screen's width.
func TestFilterFollowsANarrowerScreen(t *testing.T) {
	t.Parallel()
	m := newViewModel(t, keyfobtest.Fixtures(), 120, 30)
	press(m, "/", "type:"+strings.Repeat("abcdefghij", 7)+"end")
	m.Update(tea.WindowSizeMsg{Width: 40, Height: 30})
	line := strings.Split(plain(m), "\n")[1]
	if w := ansi.StringWidth(line); w > 40 || !strings.Contains(line, "jend") {
		t.Errorf("the filter line at 40 columns (%d wide) is %q", w, line)
	}
}
