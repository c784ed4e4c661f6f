package cli

import (
	"cmp"
	"encoding/json"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/present"
)

// ListOptions are the options of `keyfob list`.
type ListOptions struct {
	IO      *IOStreams
	Manager func() *accounts.Manager
	Now     func() time.Time

	JSON bool
}

// NewCmdList returns `keyfob list`; runF replaces its run in tests.
func NewCmdList(f *Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO, Manager: f.Manager, Now: f.now}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List accounts with their token expiry, scopes and status",
		Example: "  keyfob list\n  keyfob list --json | jq -r '.[] | select(.status != \"valid\") | .name'",
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runList(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array (schema in README)")
	return cmd
}

// listEntry is one account in `keyfob list --json`. The field names are a
// documented, stable schema (README); add fields, never rename them. The
// values are exact, never cleaned: JSON escapes what it must.
type listEntry struct {
	ID                string     `json:"id"`
	Name              string     `json:"name"`
	Email             string     `json:"email"`
	Kind              string     `json:"kind"`
	Region            string     `json:"region"`
	Scopes            []string   `json:"scopes"`
	AccessExpiresAt   *time.Time `json:"access_expires_at"`
	RefreshObtainedAt *time.Time `json:"refresh_obtained_at"`
	RefreshExpiresAt  *time.Time `json:"refresh_expires_at"`
	// RefreshExpiresSoon: the refresh token is within 7 days of its
	// estimated end (accounts.RefreshEndingWithin); log in again.
	RefreshExpiresSoon bool   `json:"refresh_expires_soon"`
	Status             string `json:"status"`
	LastRefreshError   string `json:"last_refresh_error"`
	// APIBaseURL is where to call the API the token is for (oauth.APIBase);
	// null for a custom account.
	APIBaseURL *string `json:"api_base_url"`
}

// nonEmpty is s, or nil when it is empty (null in JSON).
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func runList(opts *ListOptions) error {
	accts, err := opts.Manager().List()
	if err != nil {
		return err
	}
	now := opts.Now()
	if opts.JSON {
		return listJSON(opts.IO, accts, now)
	}
	if len(accts) == 0 {
		fprintln(opts.IO.Err, "No accounts yet. Add one with `keyfob login` or `keyfob import`, or try `keyfob demo`.")
		return nil
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fprintln(tw, "NAME\tEMAIL\tKIND\tEXPIRES\tSCOPES\tSTATUS\tID")
	for i := range accts {
		ac := &accts[i]
		fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", present.Clean(ac.Name), cmp.Or(present.Clean(ac.Email), "-"),
			present.KindRegion(ac), present.ExpiresIn(ac, now), cmp.Or(present.ShortScopes(ac.Scopes(), 3), "-"),
			present.StatusOf(ac, now).String(), present.Clean(ac.ID))
	}
	return tw.Flush()
}

func listJSON(s *IOStreams, accts []accounts.Account, now time.Time) error {
	out := make([]listEntry, 0, len(accts))
	for _, ac := range accts {
		scopes := ac.Scopes()
		if scopes == nil {
			scopes = []string{}
		}
		out = append(out, listEntry{
			ID: ac.ID, Name: ac.Name, Email: ac.Email, Kind: string(ac.Kind), Region: ac.Region,
			Scopes: scopes, AccessExpiresAt: timePtr(ac.Expiry), RefreshObtainedAt: timePtr(ac.RefreshObtainedAt),
			RefreshExpiresAt: timePtr(ac.RefreshExpiresAt()), RefreshExpiresSoon: ac.RefreshExpiresSoon(now),
			Status:           string(ac.Health(now)),
			LastRefreshError: ac.RefreshFailed(),
			APIBaseURL:       nonEmpty(oauth.APIBase(ac)),
		})
	}
	enc := json.NewEncoder(s.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
