package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/present"
)

// consumerNames lists the names of the consumers of the account with id
// (keyfob serve's), cleaned for the terminal; none when the store cannot
// be read, since the note is not worth an error.
func consumerNames(m *accounts.Manager, id string) []string {
	cs, err := m.Consumers()
	if err != nil {
		return nil
	}
	var out []string
	for _, c := range cs {
		if c.AccountID == id {
			out = append(out, present.Clean(c.Name))
		}
	}
	return out
}

// noteLoginConsumers tells, after a login or import that replaced an
// account, which consumers get its tokens again: a revoked account's
// consumers come back with its new login.
func noteLoginConsumers(w io.Writer, m *accounts.Manager, saved accounts.Account, replaced bool) {
	if !replaced {
		return
	}
	if names := consumerNames(m, saved.ID); len(names) > 0 {
		fprintf(w, "Consumers of keyfob serve that get %s's tokens again: %s (keyfob serve remove CONSUMER stops one).\n",
			present.Clean(saved.Name), strings.Join(names, ", "))
	}
}

// revokeConsumers deals with the consumers of a revoked account: removed
// with it, removed on request (--remove-consumers), or kept, and says
// which. names are the account's consumers before the revocation.
func revokeConsumers(ctx context.Context, w io.Writer, m *accounts.Manager, acct accounts.Account, names []string, remove bool) error {
	if len(names) == 0 {
		return nil
	}
	list := strings.Join(names, ", ")
	if _, err := m.Find(acct.ID); err != nil {
		fprintf(w, "Consumers: %s removed with the account; their credentials no longer work.\n", list)
		return nil
	}
	name := present.Clean(acct.Name)
	if !remove {
		fprintf(w, "Consumers: %s keep their credentials, and a new login of %s gives them its tokens again;\n"+
			"        keyfob revoke %s --remove-consumers (or keyfob serve remove CONSUMER) removes them.\n", list, name, name)
		return nil
	}
	cs, err := m.Consumers()
	if err != nil {
		return fmt.Errorf("the consumers of %s could not be removed: %w", name, err)
	}
	var removed []string
	for _, c := range cs {
		if c.AccountID != acct.ID {
			continue
		}
		if _, err := m.RemoveConsumer(ctx, c.Name); err != nil {
			if len(removed) > 0 {
				fprintf(w, "Consumers: removed %s.\n", strings.Join(removed, ", "))
			}
			return fmt.Errorf("consumer %s could not be removed: %w", present.Clean(c.Name), err)
		}
		removed = append(removed, present.Clean(c.Name))
	}
	fprintf(w, "Consumers: removed %s; their credentials no longer work.\n", strings.Join(removed, ", "))
	return nil
}
