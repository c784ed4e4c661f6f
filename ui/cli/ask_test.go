package cli

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/keyfobtest"
	"github.com/keyfob/keyfob/ui/present"
)

// askOnPipes runs one question of a formAsker (Charm's huh form) with
// stdin and stderr on pipes, as a terminal would feed it: it types each
// of keys once the screen shows the text before it.
func askOnPipes(t *testing.T, ask func(a *formAsker) error, steps ...[2]string) (string, error) {
	t.Helper()
	inR, inW := io.Pipe()
	var out keyfobtest.Buffer
	a := &formAsker{in: inR, out: &out, width: 80, height: 24}
	done := make(chan error, 1)
	go func() { done <- ask(a) }()
	defer inW.Close()
	for _, s := range steps {
		waitFor(t, 10*time.Second, func() bool { return strings.Contains(screenText(out.String()), s[0]) })
		if _, err := io.WriteString(inW, s[1]); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		return screenText(out.String()), err
	case <-time.After(10 * time.Second):
		t.Fatalf("the question did not end; the screen:\n%s", screenText(out.String()))
	}
	return "", nil
}

// screenText is what a form drew, without its escape sequences.
func screenText(s string) string { return ansi.Strip(s) }

// The terminal's questions are the wizard's: the field's label and help,
// a required field refused empty, a secret never echoed.
func TestFormAskerAsksInTheWizardsWords(t *testing.T) {
	t.Parallel()
	values := oauth.Inputs{}
	reqs := []oauth.Requirement{{Field: oauth.FieldClientID, Need: oauth.NeedRequired}}
	screen, err := askOnPipes(t, func(a *formAsker) error {
		return a.Fields(context.Background(), "New login · fleet · na", "", accounts.KindFleet, reqs, values)
	}, [2]string{"Client ID", "\r"}, [2]string{"Client ID is required", "my-app\r"})
	if err != nil {
		t.Fatal(err)
	}
	if values[oauth.FieldClientID] != "my-app" {
		t.Fatalf("answer %q", values[oauth.FieldClientID])
	}
	for _, want := range []string{"New login · fleet · na", present.FieldLabel(oauth.FieldClientID), "The client id of your app"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the question does not show %q:\n%s", want, screen)
		}
	}

	secret := "hunter2-secret"
	for _, f := range []oauth.Field{oauth.FieldClientSecret, oauth.FieldPassword, oauth.FieldRefreshToken, oauth.FieldClientID} {
		answer := secret
		view := screenText(input(accounts.KindLegacy, oauth.Requirement{Field: f}, &answer).WithWidth(80).View())
		if shown := strings.Contains(view, secret); shown != (f == oauth.FieldClientID) {
			t.Errorf("%s: the value shows: %v\n%s", f, shown, view)
		}
	}
}

// A choice moves with j/k and enter picks it; ctrl+c leaves the question.
func TestFormAskerChoosesAndLeaves(t *testing.T) {
	t.Parallel()
	value := "fleet"
	cs := []Choice{{"fleet", "Fleet API"}, {"owner", "Owner API"}, {"custom", "any server"}}
	screen, err := askOnPipes(t, func(a *formAsker) error {
		return a.Choose(context.Background(), present.AskKind, cs, &value)
	}, [2]string{"any server", "jj\r"})
	if err != nil || value != "custom" {
		t.Fatalf("chose %q, %v", value, err)
	}
	if !strings.Contains(screen, "owner   Owner API") {
		t.Errorf("the choices are not aligned with their descriptions:\n%s", screen)
	}
	_, err = askOnPipes(t, func(a *formAsker) error {
		return a.Choose(context.Background(), present.AskKind, cs, &value)
	}, [2]string{"any server", "\x03"})
	if err != ErrAborted {
		t.Fatalf("ctrl+c: %v", err)
	}
}
