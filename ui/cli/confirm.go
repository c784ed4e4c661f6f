package cli

import (
	"context"
	"errors"
	"fmt"
)

// confirm lets a command that forgets or revokes something go ahead: at
// once with --yes (yes), else after question is answered yes at a
// terminal. Without a terminal there is no one to ask, so a script must
// say --yes: the command refuses (exit 2) rather than going ahead, as gh
// does. action says what the command would do ("remove car"); no is the
// error of a "no".
func confirm(ctx context.Context, s *IOStreams, p func() *Prompter, yes bool, question, action, no string) error {
	if yes {
		return nil
	}
	if !s.InTTY {
		return usageError{err: fmt.Errorf("not confirmed: stdin is not a terminal, so keyfob cannot ask before it would %s; pass --yes to %s without asking", action, action), advised: true}
	}
	ok, err := p().Confirm(ctx, question)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New(no)
	}
	return nil
}
