package cli

import (
	"context"
	"io"
	"strings"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/present"
)

// consumerNames lists the names of the consumers of the account with id
// (keyfob serve's), cleaned for the terminal; none when the store cannot
// be read, since the note is not worth an error.
func consumerNames(m *accounts.Manager, id string) []string {
	cs, err := m.ConsumersOf(context.Background(), id)
	if err != nil {
		return nil
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = present.Clean(c.Name)
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
