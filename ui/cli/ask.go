package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/present"
)

// Asker asks the user, in a terminal, for what the flags left out: a
// choice, a few fields of the requirements table in the TUI wizard's words
// (present.FieldLabel, present.HintOf), a yes or no. Each method returns
// ErrAborted when the user leaves the question (ctrl+c, esc).
type Asker interface {
	// Choose asks question and sets value to the chosen choice's Value; the
	// choice equal to *value on entry is highlighted first.
	Choose(ctx context.Context, question string, choices []Choice, value *string) error
	// Fields asks for the fields reqs of an account of kind k, one input
	// each, titled, described and masked as the TUI wizard's form shows
	// them, starting from values (by field), where the answers go. title
	// heads the page; note, when set, says what was wrong.
	Fields(ctx context.Context, title, note string, k accounts.Kind, reqs []oauth.Requirement, values oauth.Inputs) error
	// Confirm asks a yes or no question; yes holds the default on entry.
	Confirm(ctx context.Context, question, desc string, yes *bool) error
}

// Choice is one answer of Asker.Choose: the value returned and the words
// shown beside it.
type Choice struct{ Value, Desc string }

// ErrAborted is what an Asker returns when the user leaves a question with
// ctrl+c or esc.
var ErrAborted = errors.New("cancelled at the prompt; nothing was saved")

// askWidth bounds the width of the questions: help lines wider than this
// are hard to read.
const askWidth = 80

// Ask returns the terminal's Asker: Factory.Asker when set, else Charm's
// huh forms drawn on stderr (stdout stays free for results) when stdin
// and stderr are terminals, else nil — then commands fail with the error
// that names the missing flag.
func (f *Factory) Ask() Asker {
	if f.Asker != nil {
		return f.Asker
	}
	s := f.IO
	if !s.InTTY || !s.ErrTTY {
		return nil
	}
	w, h := s.Size()
	return &formAsker{in: s.In, out: s.Err, width: min(w, askWidth), height: h}
}

// formAsker is the Asker of a terminal: one huh form per question.
type formAsker struct {
	in            io.Reader
	out           io.Writer
	width, height int
}

// Choose implements Asker.
func (a *formAsker) Choose(ctx context.Context, question string, choices []Choice, value *string) error {
	valueW := 0
	for _, c := range choices {
		valueW = max(valueW, len(c.Value))
	}
	opts := make([]huh.Option[string], len(choices))
	for i, c := range choices {
		label := c.Value
		if c.Desc != "" {
			label = fmt.Sprintf("%-*s  %s", valueW, c.Value, c.Desc)
		}
		opts[i] = huh.NewOption(label, c.Value)
	}
	return a.run(ctx, huh.NewGroup(huh.NewSelect[string]().Title(question).Options(opts...).Value(value)))
}

// Confirm implements Asker.
func (a *formAsker) Confirm(ctx context.Context, question, desc string, yes *bool) error {
	return a.run(ctx, huh.NewGroup(huh.NewConfirm().Title(question).Description(desc).Value(yes)))
}

// Fields implements Asker. A required field must not be left empty
// (except a fleet app's redirect URI, which keyfob may remember).
func (a *formAsker) Fields(ctx context.Context, title, note string, k accounts.Kind, reqs []oauth.Requirement, values oauth.Inputs) error {
	answers := make([]string, len(reqs))
	fields := make([]huh.Field, len(reqs))
	for i, r := range reqs {
		answers[i] = values[r.Field]
		fields[i] = input(k, r, &answers[i])
	}
	if err := a.run(ctx, huh.NewGroup(fields...).Title(title).Description(note)); err != nil {
		return err
	}
	for i, r := range reqs {
		values[r.Field] = strings.TrimSpace(answers[i])
		if r.Field == oauth.FieldPassword {
			values[r.Field] = answers[i] // a password is taken as typed
		}
	}
	return nil
}

// input is the question of one field.
func input(k accounts.Kind, r oauth.Requirement, answer *string) *huh.Input {
	hint := present.HintOf(k, r.Field)
	label := present.FieldLabel(r.Field)
	in := huh.NewInput().Title(label).Description(hint.Help).Placeholder(hint.Placeholder).
		CharLimit(4096).Value(answer)
	if r.Field.Secret() {
		in = in.EchoMode(huh.EchoModePassword)
	}
	if r.Need == oauth.NeedRequired && !(k == accounts.KindFleet && r.Field == oauth.FieldRedirectURI) {
		in = in.Validate(func(s string) error {
			if strings.TrimSpace(s) == "" {
				return fmt.Errorf("%s is required", label)
			}
			return nil
		})
	}
	return in
}

// run runs one page of questions, as high as the terminal at most (the
// page scrolls to the field being answered); ctrl+c or esc is ErrAborted.
func (a *formAsker) run(ctx context.Context, g *huh.Group) error {
	f := huh.NewForm(g).WithShowHelp(true).
		WithProgramOptions(tea.WithWindowSize(a.width, a.height)). // first: it replaces the others
		WithInput(a.in).WithOutput(a.out).WithWidth(a.width).WithHeight(a.height - 1)
	err := f.RunWithContext(ctx)
	switch {
	case errors.Is(err, huh.ErrUserAborted):
		return ErrAborted
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	}
	return err
}
