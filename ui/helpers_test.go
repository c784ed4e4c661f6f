package ui

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/clipboard"
)

// testNow is the fixed clock of view tests.
var testNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// fakeJWT builds an unsigned, obviously fake JWT with the given claims.
func fakeJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, _ := json.Marshal(claims)
	return head + "." + enc.EncodeToString(body) + ".fake-signature-for-tests"
}

var fleetScopes = []string{"openid", "offline_access", "user_data", "vehicle_device_data", "vehicle_location", "vehicle_cmds", "vehicle_charging_cmds"}

// fixtureAccount makes an account whose access token expires at exp.
func fixtureAccount(id, name, email string, kind accounts.Kind, region string, exp time.Time, scopes []string) accounts.Account {
	iat := exp.Add(-8 * time.Hour)
	// The subject keeps the short form the fixtures had before ids had to
	// be keyfob's own ("a0000001" → "user-a1"), so screens stay the same.
	short := id[:1] + strings.TrimLeft(id[1:], "0")
	claims := map[string]any{
		"iss": "https://auth.example.test/oauth2/v3", "azp": "test-client", "sub": "user-" + short,
		"aud": []string{"https://fleet-api.example.test"}, "scp": scopes,
		"exp": exp.Unix(), "iat": iat.Unix(), "ou_code": strings.ToUpper(region), "locale": "en-US",
	}
	if email != "" {
		claims["email"] = email
	}
	return accounts.Account{
		ID: id, Name: name, Email: email, Subject: "user-" + short, Kind: kind, Region: region,
		ClientID: "test-client", Audience: "https://fleet-api.example.test",
		Endpoints: accounts.Endpoints{
			AuthURL:     "https://auth.example.test/oauth2/v3/authorize",
			TokenURL:    "https://auth.example.test/oauth2/v3/token",
			UserInfoURL: "https://auth.example.test/oauth2/v3/userinfo",
		},
		RequestedScopes: scopes, GrantedScopes: scopes,
		TokenType: "Bearer", AccessToken: fakeJWT(claims), RefreshToken: "NA_0000test" + id + "0000000000000000",
		Expiry: exp, AccessObtainedAt: iat, RefreshObtainedAt: testNow.Add(-12 * 24 * time.Hour),
		CreatedAt:   testNow.Add(-40 * 24 * time.Hour),
		LastRefresh: &accounts.RefreshResult{At: iat, OK: true},
		State:       accounts.StateActive,
	}
}

// fixtures is a store with one account in every state the list shows.
func fixtures() []accounts.Account {
	home := fixtureAccount("a0000001", "home", "driver@example.com", accounts.KindFleet, "na",
		testNow.Add(7*time.Hour+41*time.Minute+9*time.Second), fleetScopes)
	work := fixtureAccount("a0000002", "work", "fleet.manager@example.com", accounts.KindFleet, "eu",
		testNow.Add(42*time.Minute+5*time.Second), []string{"openid", "offline_access", "vehicle_device_data"})
	garage := fixtureAccount("a0000003", "garage", "garage@example.com", accounts.KindOwner, "na",
		testNow.Add(4*time.Minute+30*time.Second), []string{"openid", "email", "offline_access"})
	garage.ClientID = "ownerapi"
	garage.Endpoints.RedirectURI = "tesla://auth/callback"
	partner := fixtureAccount("a0000004", "partner-na", "", accounts.KindPartner, "na",
		testNow.Add(-3*time.Minute), []string{"openid", "vehicle_device_data", "vehicle_cmds", "vehicle_charging_cmds"})
	partner.RefreshToken, partner.RefreshObtainedAt = "", time.Time{}
	partner.ClientSecret = "not-a-real-secret"
	old := fixtureAccount("a0000005", "old-car", "old@example.com", accounts.KindLegacy, "na",
		testNow.Add(20*24*time.Hour), nil)
	old.AccessToken = "qts-000000000000000000000000000000test"
	old.Endpoints = accounts.Endpoints{BaseURL: "https://owner-api.example.test"}
	old.State, old.StateDetail = accounts.StateLoginRequired, "the server rejected the refresh token (login_required)"
	custom := fixtureAccount("a0000006", "selfhost", "me@selfhost.example", accounts.KindCustom, "",
		testNow.Add(3*time.Hour), []string{"openid", "profile"})
	custom.Grant = accounts.GrantCode
	custom.Endpoints.RevokeURL = "https://auth.example.test/oauth2/v3/revoke"
	custom.State, custom.StateDetail = accounts.StateError, "no answer from auth.example.test within 30s"
	custom.LastRefresh = &accounts.RefreshResult{At: testNow.Add(-time.Minute), Error: custom.StateDetail}
	sold := fixtureAccount("a0000007", "sold", "sold@example.com", accounts.KindFleet, "eu",
		testNow.Add(5*time.Hour), fleetScopes)
	sold.State, sold.AccessToken, sold.RefreshToken = accounts.StateRevoked, "", ""
	return []accounts.Account{home, work, garage, partner, old, custom, sold}
}

// noAuthority fails every server call: view tests never reach a server.
type noAuthority struct{}

func (noAuthority) Refresh(context.Context, accounts.Account) (accounts.Grant, error) {
	return accounts.Grant{}, fmt.Errorf("no server in this test")
}

func (noAuthority) Revoke(context.Context, accounts.Account) (accounts.Revocation, error) {
	return accounts.Revocation{}, fmt.Errorf("no server in this test")
}

// rejecting is a server that rejects every refresh token, as after a
// password change.
type rejecting struct{ noAuthority }

func (rejecting) Refresh(context.Context, accounts.Account) (accounts.Grant, error) {
	return accounts.Grant{}, fmt.Errorf("the server rejected the refresh token (login_required): %w", accounts.ErrLoginRequired)
}

// seedManager is the Manager (opened with opts) of a fresh store in a
// temporary directory that holds accts.
func seedManager(t testing.TB, accts []accounts.Account, opts accounts.Options) *accounts.Manager {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	m, err := accounts.Open("", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if len(accts) > 0 {
		if _, err := m.Put(context.Background(), accts...); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// writeOldStore writes, in dir, a store of the one-file format (version
// 2) holding accts and cs, as an older keyfob or a hand edit leaves one:
// keyfob takes it over on first use, whatever its accounts are named.
func writeOldStore(t testing.TB, dir string, accts []accounts.Account, cs []accounts.Consumer) {
	t.Helper()
	data, err := json.Marshal(map[string]any{"version": 2, "accounts": accts, "consumers": cs})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, accounts.StoreFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// fakeClipboard records what keyfob puts on the native clipboard.
type fakeClipboard struct {
	mu   sync.Mutex
	text string
}

func (c *fakeClipboard) ReadAll() (string, error) { return c.get(), nil }
func (c *fakeClipboard) WriteAll(s string) error  { c.set(s); return nil }

func (c *fakeClipboard) get() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.text
}

func (c *fakeClipboard) set(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.text = s
}

// newViewModel builds a model over accts at a fixed instant, sized w×h and
// loaded, without a program.
func newViewModel(t testing.TB, accts []accounts.Account, w, h int) *Model {
	t.Helper()
	return newViewModelAuth(t, accts, w, h, noAuthority{})
}

// newViewModelAuth is newViewModel whose manager asks auth for refreshes.
func newViewModelAuth(t testing.TB, accts []accounts.Account, w, h int, auth accounts.Authority) *Model {
	t.Helper()
	mgr := seedManager(t, accts, accounts.Options{Auth: auth, Now: func() time.Time { return testNow }})
	return newModelFor(t, Options{Manager: mgr, Engine: &oauth.Engine{}, Now: func() time.Time { return testNow }}, w, h)
}

// newModelFor builds a loaded model from options, sized w×h.
func newModelFor(t testing.TB, o Options, w, h int) *Model {
	t.Helper()
	// The model's context ends with the test, and with it the commands
	// that wait for the store to change.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m, err := New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	m.c.Loc = time.UTC
	m.clip = clipboard.New(&fakeClipboard{}, nil)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.Update(m.loadCmd()())
	return m
}

// plain is the plain text of the model's view.
func plain(m *Model) string {
	return ansi.Strip(m.View().Content)
}

// dialogText is the plain text of the dialog on top, its lines joined by
// spaces with the border and runs of spaces removed, so that wrapped
// sentences read whole; "" when no dialog is open.
func dialogText(m *Model) string {
	d := m.dialogs.Top()
	if d == nil {
		return ""
	}
	s := ansi.Strip(d.View())
	s = strings.NewReplacer("│", " ", "╭", " ", "╮", " ", "╰", " ", "╯", " ", "─", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// focusedField is the label of the form field with the focus (without the
// * of a required one), or "".
func focusedField(m *Model) string {
	l := focusedLine(m)
	return strings.TrimSuffix(strings.TrimSpace(l[:min(15, len(l))]), "*")
}

// focusedLine is the line of the dialog on top marked with "› ", without
// the marker and the border, or "".
func focusedLine(m *Model) string {
	d := m.dialogs.Top()
	if d == nil {
		return ""
	}
	for _, l := range strings.Split(ansi.Strip(d.View()), "\n") {
		l = strings.TrimSpace(strings.Trim(strings.TrimSpace(l), "│"))
		if rest, ok := strings.CutPrefix(l, "› "); ok {
			return rest
		}
	}
	return ""
}

// press sends keys to the model: each string is one key ("enter", "n",
// "ctrl+c") or, prefixed with "type:", text typed one rune at a time.
// Commands are returned, not run.
func press(m *Model, keys ...string) []tea.Cmd {
	var cmds []tea.Cmd
	for _, k := range keys {
		if text, ok := strings.CutPrefix(k, "type:"); ok {
			for _, r := range text {
				_, cmd := m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
				cmds = append(cmds, cmd)
			}
			continue
		}
		_, cmd := m.Update(keyMsg(k))
		cmds = append(cmds, cmd)
	}
	return cmds
}

// keyMsg builds the key press that String() reports as k.
func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	}
	if rest, ok := strings.CutPrefix(k, "ctrl+"); ok {
		return tea.KeyPressMsg{Code: rune(rest[0]), Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	msg := tea.KeyPressMsg{Code: r, Text: k}
	if r >= 'A' && r <= 'Z' {
		msg.Code = r + ('a' - 'A')
		msg.ShiftedCode = r
		msg.Mod = tea.ModShift
	}
	return msg
}

// ioPipe is an input that never sends a key.
func ioPipe() (*io.PipeReader, *io.PipeWriter) { return io.Pipe() }
