package refresh

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// newScheduler is a scheduler whose clock stands at keyfobtest.Now; its
// commands are not run unless a test runs them (then through mgr).
func newScheduler(t *testing.T, mgr *accounts.Manager) *Scheduler {
	c := keyfobtest.Common(t, 100, 30)
	c.Manager = mgr
	return New(c, func() time.Time { return keyfobtest.Now })
}

// each yields accts as the list does.
func each(accts []accounts.Account) func(func(*accounts.Account) bool) {
	return func(yield func(*accounts.Account) bool) {
		for i := range accts {
			if !yield(&accts[i]) {
				return
			}
		}
	}
}

// jobs is what the scheduler does for each account, by name.
func jobs(s *Scheduler, accts []accounts.Account) map[string]common.Job {
	out := map[string]common.Job{}
	for _, a := range accts {
		if j := s.Job(a.ID); j != common.NoJob {
			out[a.Name] = j
		}
	}
	return out
}

// refreshable are the names of the accounts accounts.CanRefresh allows.
func refreshable(accts []accounts.Account) []string {
	var out []string
	for _, a := range accts {
		if accounts.CanRefresh(a) == nil {
			out = append(out, a.Name)
		}
	}
	return out
}

func names(m map[string]common.Job) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// r, R and the auto-refresh agree on which accounts go to the server:
// those accounts.CanRefresh allows, no other. r on one it refuses sends
// nothing and says what helps instead.
func TestKeysAndAutoRefreshAgreeWithCanRefresh(t *testing.T) {
	accts := keyfobtest.Fixtures()
	bare := keyfobtest.Account("a0000008", "bare", "bare@example.com", accounts.KindFleet, "na", keyfobtest.Now.Add(time.Minute), nil)
	bare.RefreshToken = "" // nothing to refresh with
	accts = append(accts, bare)
	want := refreshable(accts)
	slices.Sort(want)
	if len(want) < 3 || len(want) == len(accts) {
		t.Fatalf("the fixtures should mix refreshable accounts and others: %v", want)
	}

	s := newScheduler(t, nil)
	for _, a := range accts {
		cmd, notice := s.Refresh(a)
		if (cmd != nil) != slices.Contains(want, a.Name) {
			t.Errorf("r on %s sent a refresh: %v; accounts.CanRefresh says %v", a.Name, cmd != nil, accounts.CanRefresh(a))
		}
		if cmd == nil && notice.Text == "" {
			t.Errorf("r on %s did nothing and said nothing", a.Name)
		}
	}
	if got := names(jobs(s, accts)); !slices.Equal(got, want) {
		t.Errorf("r refreshes %v, want %v", got, want)
	}

	s = newScheduler(t, nil)
	s.RefreshAll(each(accts))
	if got := names(jobs(s, accts)); !slices.Equal(got, want) {
		t.Errorf("R refreshes %v, want %v", got, want)
	}

	// Every account due: a margin longer than any token's life.
	s = newScheduler(t, nil)
	s.Tick(keyfobtest.Now.Add(30*24*time.Hour), 60*24*time.Hour, each(accts))
	if got := names(jobs(s, accts)); !slices.Equal(got, want) {
		t.Errorf("the auto-refresh refreshes %v, want %v", got, want)
	}
}

// r on an account whose refresh token the server rejected says to sign in
// again with n, and sends nothing.
func TestRefreshOfALoginRequiredAccountSaysSignIn(t *testing.T) {
	s := newScheduler(t, nil)
	old := keyfobtest.Named(keyfobtest.Fixtures(), "old-car")
	cmd, notice := s.Refresh(old)
	if cmd != nil || s.Busy() {
		t.Fatal("r on a login-required account sent a refresh")
	}
	if want := "old-car needs a new login: the server rejected its refresh token — sign in again with n"; notice.Text != want {
		t.Errorf("notice %q, want %q", notice.Text, want)
	}
	sold := keyfobtest.Named(keyfobtest.Fixtures(), "sold")
	if _, n := s.Refresh(sold); n.Text != "sold was revoked; sign in again with n" {
		t.Errorf("r on a revoked account: %q", n.Text)
	}
}

// At most MaxInFlight refreshes run; the others wait in order and start as
// slots free up; a waiting refresh of an account that left the store is
// dropped.
func TestAtMostMaxInFlightRun(t *testing.T) {
	accts := keyfobtest.Cars(MaxInFlight + 3)
	s := newScheduler(t, nil)
	cmd, notice := s.RefreshAll(each(accts))
	if cmd == nil || !strings.Contains(notice.Text, fmt.Sprintf("refreshing %d accounts… 0 done", len(accts))) {
		t.Fatalf("R: notice %q", notice.Text)
	}
	count := func(j common.Job) int {
		n := 0
		for _, a := range accts {
			if s.Job(a.ID) == j {
				n++
			}
		}
		return n
	}
	if count(common.Refreshing) != MaxInFlight || count(common.Queued) != 3 {
		t.Fatalf("%d running, %d waiting; want %d and 3", count(common.Refreshing), count(common.Queued), MaxInFlight)
	}
	if s.Job(accts[MaxInFlight].ID) != common.Queued {
		t.Error("the first account over the limit does not wait")
	}
	// One ends: the first waiting one starts.
	_, next, ok := s.Update(doneMsg{job: s.running[accts[0].ID], got: accounts.Refreshed{Account: accts[0]}})
	if !ok || next == nil || s.Job(accts[0].ID) != common.NoJob || s.Job(accts[MaxInFlight].ID) != common.Refreshing {
		t.Fatalf("after one ended: started %v, first %v, next %v", next != nil, s.Job(accts[0].ID), s.Job(accts[MaxInFlight].ID))
	}
	// The last one leaves the store: its refresh no longer waits.
	gone := accts[len(accts)-1].ID
	s.Keep(func(id string) bool { return id != gone })
	if s.Job(gone) != common.NoJob || count(common.Queued) != 1 {
		t.Errorf("after the account left: %v, %d waiting", s.Job(gone), count(common.Queued))
	}
	if _, _, ok := s.Update(tea.KeyPressMsg{}); ok {
		t.Error("the scheduler took a message not its own")
	}
}

// The auto-refresh waits as long as the account's record says after a
// failure (the server's Retry-After or the manager's back-off), looks
// again only when something may be due, and then refreshes.
func TestAutoRefreshPlansFromTheRecord(t *testing.T) {
	now := keyfobtest.Now
	a := keyfobtest.Named(keyfobtest.Fixtures(), "garage") // expires in 4m30s: within a 5-minute margin
	retry := now.Add(10 * time.Minute)
	a.LastRefresh = &accounts.RefreshResult{At: now, Error: "the server is busy (429)", Failures: 1, RetryAt: retry, ServerDelay: true}
	accts := []accounts.Account{a}
	s := newScheduler(t, nil)
	if cmd := s.Tick(now, 5*time.Minute, each(accts)); cmd != nil || s.Busy() {
		t.Fatal("the auto-refresh did not wait for the retry time")
	}
	if !s.NextDue().Equal(retry) {
		t.Errorf("the next look is at %v, want the retry time %v", s.NextDue(), retry)
	}
	// Until then a tick does not look at the accounts at all.
	looked := false
	if s.Tick(now.Add(time.Minute), 5*time.Minute, func(func(*accounts.Account) bool) { looked = true }); looked {
		t.Error("a tick before the next look went over the accounts")
	}
	if cmd := s.Tick(retry, 5*time.Minute, each(accts)); cmd == nil || s.Job(a.ID) != common.Refreshing {
		t.Error("the auto-refresh did not refresh once the retry time came")
	}
	if s.running[a.ID].mode != accounts.Automatic {
		t.Error("an automatic refresh is not sent as one")
	}
}

// What the scheduler says when a refresh ends: the user's own refresh is
// confirmed; a background one speaks only on its first failure, with when
// it tries again; a rejected refresh token says to sign in again.
func TestFinishedNotices(t *testing.T) {
	home := keyfobtest.Named(keyfobtest.Fixtures(), "home")
	failed := func(n int) accounts.Account {
		a := home
		a.LastRefresh = &accounts.RefreshResult{At: keyfobtest.Now, Error: "503", Failures: n, RetryAt: keyfobtest.Now.Add(30 * time.Second)}
		return a
	}
	serverErr := errors.New("the server answered 503")
	for _, c := range []struct {
		name string
		mode accounts.RefreshMode
		got  accounts.Account
		err  error
		want string // "" = nothing
	}{
		{"explicit success", accounts.Explicit, home, nil, "refreshed home — valid for 7h 41m"},
		{"automatic success", accounts.Automatic, home, nil, ""},
		{"explicit failure", accounts.Explicit, failed(1), serverErr, "refreshing home failed: the server answered 503"},
		{"first automatic failure", accounts.Automatic, failed(1), serverErr, "refreshing home failed: the server answered 503 — retrying in less than a minute"},
		{"repeated automatic failure", accounts.Automatic, failed(2), serverErr, ""},
		{"automatic, held back", accounts.Automatic, failed(1), &accounts.BackoffError{Account: "home"}, ""},
		{"rejected", accounts.Explicit, home, fmt.Errorf("refreshing: %w", accounts.ErrLoginRequired),
			"home needs a new login: the server rejected its refresh token — sign in again with n"},
	} {
		s := newScheduler(t, nil)
		s.add(job{seen: home, mode: c.mode})
		fin, _, _ := s.Update(doneMsg{job: job{seen: home, mode: c.mode}, got: accounts.Refreshed{Before: home, Account: c.got}, err: c.err})
		if !strings.HasPrefix(fin.Notice.Text, c.want) || (c.want == "") != (fin.Notice.Text == "") {
			t.Errorf("%s: notice %q, want %q", c.name, fin.Notice.Text, c.want)
		}
		if fin.Account.ID != home.ID || s.Busy() {
			t.Errorf("%s: reported account %q, busy %v", c.name, fin.Account.Name, s.Busy())
		}
	}
}

// A refresh-all reports once, at the end: how many were refreshed, the
// first failure and how many were skipped.
func TestRefreshAllReportsAtTheEnd(t *testing.T) {
	accts := keyfobtest.Fixtures()
	s := newScheduler(t, nil)
	s.RefreshAll(each(accts))
	var started []job
	for _, j := range s.running {
		started = append(started, j)
	}
	slices.SortFunc(started, func(a, b job) int { return strings.Compare(a.seen.ID, b.seen.ID) })
	skipped := len(accts) - len(started)
	firstSkipped := ""
	for _, a := range accts {
		if !slices.ContainsFunc(started, func(j job) bool { return j.seen.ID == a.ID }) {
			firstSkipped = a.Name
			break
		}
	}
	var last Finished
	for i, j := range started {
		var err error
		if i == 1 {
			err = errors.New("the server answered 503")
		}
		fin, _, _ := s.Update(doneMsg{job: j, got: accounts.Refreshed{Before: j.seen, Account: j.seen}, err: err})
		if i < len(started)-1 && (fin.Notice.Text != "" || !strings.Contains(fin.Progress, fmt.Sprintf("%d done", i+1))) {
			t.Errorf("refresh %d of the batch: notice %q, progress %q", i+1, fin.Notice.Text, fin.Progress)
		}
		last = fin
	}
	want := fmt.Sprintf("refreshed %d of %d accounts; %s failed: the server answered 503; %d skipped, which cannot be refreshed: %s and %d more",
		len(started)-1, len(started), started[1].seen.Name, skipped, firstSkipped, skipped-1)
	if last.Notice.Text != want {
		t.Errorf("summary %q, want %q", last.Notice.Text, want)
	}
}

// grants hands out numbered tokens valid for 8 hours.
type grants struct{ keyfobtest.NoServer }

func (grants) Refresh(_ context.Context, a accounts.Account) (accounts.Grant, error) {
	return accounts.Grant{AccessToken: "new-" + a.ID, RefreshToken: "rotated-" + a.ID, Expiry: keyfobtest.Now.Add(8 * time.Hour)}, nil
}

// A refresh runs through the manager: what comes back is the account as
// the store now holds it.
func TestRefreshRunsThroughTheManager(t *testing.T) {
	home := keyfobtest.Named(keyfobtest.Fixtures(), "home")
	mgr := keyfobtest.Manager(t, []accounts.Account{home}, accounts.Options{Auth: grants{}, Now: func() time.Time { return keyfobtest.Now }})
	s := newScheduler(t, mgr)
	cmd, _ := s.Refresh(home)
	fin, _, ok := s.Update(cmd())
	if !ok || fin.Account.AccessToken != "new-"+home.ID || fin.Account.RefreshToken != "rotated-"+home.ID {
		t.Fatalf("finished %v with %q", ok, fin.Account.AccessToken)
	}
	stored, err := mgr.Get(context.Background(), home.ID)
	if err != nil || stored.RefreshToken != "rotated-"+home.ID {
		t.Fatalf("the store holds %q (%v)", stored.RefreshToken, err)
	}
	if !strings.HasPrefix(fin.Notice.Text, "refreshed home — valid for 8 hours") {
		t.Errorf("notice %q", fin.Notice.Text)
	}
}
