package cli

import (
	"cmp"
	"context"
	"encoding/json"
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
	// Wide prints every column at full width and each status with its
	// detail (a failed refresh's error).
	Wide bool
}

// NewCmdList returns `keyfob list`; runF replaces its run in tests.
func NewCmdList(f *Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO, Manager: f.Manager, Now: f.now}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List accounts with their token expiry, scopes and status",
		Long: "list shows every account: name, email, kind and region, when its access token expires, its\n" +
			"scopes, its status and its id. In a terminal the table fits its width, as the TUI's list does:\n" +
			"the id, email, scopes and kind go first, and long names and emails are cut. The status column\n" +
			"says what is wrong in a word (\"! refresh failed\"); --wide shows every column in full and why\n" +
			"(the server's error), as do --json and the TUI's detail view.\n" +
			"\"! refresh ending\": the refresh token is within 7 days of its estimated end (obtained + 90 days:\n" +
			"Tesla's refresh tokens are opaque and live about 3 months). A refresh renews it, since its answer\n" +
			"carries a new one (keyfob refresh NAME); where the server kept it at the last refresh, only a new\n" +
			"login does (--json: refresh_renewed_by).",
		Example: "  keyfob list\n  keyfob list --wide\n  keyfob list --json | jq -r '.[] | select(.status != \"valid\") | .name'",
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runList(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print a JSON array (schema in README)")
	cmd.Flags().BoolVar(&opts.Wide, "wide", false, "every column in full, and why a status is what it is (a failed refresh's error)")
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
	// estimated end (accounts.RefreshEndingWithin); RefreshRenewedBy says
	// what renews it: "refresh", "login" or "" (present.Renewal).
	RefreshExpiresSoon bool   `json:"refresh_expires_soon"`
	RefreshRenewedBy   string `json:"refresh_renewed_by"`
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
	accts, err := opts.Manager().List(context.Background())
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
	width := 0 // a pipe or --wide: every column, in full
	if opts.IO.OutTTY && !opts.Wide {
		width = opts.IO.Width()
	}
	cols, widths := fitColumns(listColumns(accts, now, opts.Wide), width)
	writeColumns(opts.IO.Out, cols, widths)
	return nil
}

// listColumns are the columns of keyfob list, cleaned for the terminal:
// on a narrow one the id goes first, then the email, the scopes and the
// kind; names, emails and scopes may be cut. wide puts each status's detail in it.
func listColumns(accts []accounts.Account, now time.Time, wide bool) []column {
	cols := []column{
		{title: "NAME", least: 10}, {title: "EMAIL", drop: 2, least: 12}, {title: "KIND", drop: 4},
		{title: "EXPIRES"}, {title: "SCOPES", drop: 3, least: 14}, {title: "STATUS"}, {title: "ID", drop: 1, early: true},
	}
	for i := range accts {
		ac := &accts[i]
		st := present.StatusOf(ac, now)
		status := st.Label()
		if wide {
			status = st.String()
		}
		for c, cell := range []string{present.OneLine(ac.Name), cmp.Or(present.OneLine(ac.Email), "-"), present.KindRegion(ac),
			present.ExpiresIn(ac, now), cmp.Or(present.ShortScopes(ac.Scopes(), 3), "-"), status, present.OneLine(ac.ID)} {
			cols[c].cells = append(cols[c].cells, cell)
		}
	}
	return cols
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
			RefreshRenewedBy: present.Renewal(&ac),
			Status:           string(ac.Health(now)),
			LastRefreshError: ac.RefreshFailed(),
			APIBaseURL:       nonEmpty(oauth.APIBase(ac)),
		})
	}
	enc := json.NewEncoder(s.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
