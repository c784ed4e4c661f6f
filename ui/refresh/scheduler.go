// Package refresh is the refresh scheduler of keyfob's terminal interface:
// the refreshes the user asks for (r, and R for every account) and the
// automatic ones, planned from each account's expiry and from when its
// record says a failed refresh may be tried again. At most MaxInFlight
// run at once; the others wait in order.
//
// Each refresh runs through the account manager in a command, and its
// outcome comes back to Update as the scheduler's own message, which it
// turns into a Finished report: the account as the refresh left it, for
// the list, and what to tell the user. The scheduler is the only one to
// know which refreshes run or wait (Job); the rows of the list hold the
// accounts alone. Whether an account may be refreshed at all is
// accounts.CanRefresh's to say, for r, R and the auto-refresh alike; the
// back-off after a failure is the manager's, kept in the account's record
// (accounts.Account.RetryAt).
package refresh

import (
	"errors"
	"iter"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// MaxInFlight is how many refreshes run at once.
const MaxInFlight = 6

// idleLook is how long the auto-refresh waits before it looks again when
// no account is due: accounts that arrive or change meanwhile make it
// look at once (Replan).
const idleLook = 24 * time.Hour

// Scheduler runs the refreshes of the TUI. Create it with New.
type Scheduler struct {
	c   *common.Common
	now func() time.Time

	running map[string]job      // by account id
	waiting map[string]struct{} // ids in queue
	queue   []job
	// nextDue is when the auto-refresh looks at the accounts again.
	nextDue time.Time
	batch   batch
}

// job is one refresh: the account as the screen saw it, who asked, and
// the refresh-all it belongs to (0 for none).
type job struct {
	seen  accounts.Account
	mode  accounts.RefreshMode
	batch int
}

// doneMsg is the outcome of one refresh.
type doneMsg struct {
	job job
	got accounts.Refreshed
	err error
}

// Finished is what the scheduler reports when a refresh ends.
type Finished struct {
	// Account is the account as the refresh left it (refreshed, marked
	// as failed, or as another keyfob left it); its ID is "" when there
	// is nothing new to show.
	Account accounts.Account
	// Notice is what to tell the user now (empty for nothing).
	Notice common.Notice
	// Progress, during a refresh-all, is how far it got: it replaces the
	// refresh-all's own notice while that one is shown.
	Progress string
	// Region says that the new tokens moved the account to another region
	// or audience (empty when they did not).
	Region common.Notice
}

// New returns an idle scheduler whose refreshes run through c.Manager
// under c.Ctx; now is the clock of its messages.
func New(c *common.Common, now func() time.Time) *Scheduler {
	return &Scheduler{c: c, now: now, running: map[string]job{}, waiting: map[string]struct{}{}}
}

// Job implements common.Jobs.
func (s *Scheduler) Job(id string) common.Job {
	if _, ok := s.running[id]; ok {
		return common.Refreshing
	}
	if _, ok := s.waiting[id]; ok {
		return common.Queued
	}
	return common.NoJob
}

// Busy reports whether a refresh runs or waits.
func (s *Scheduler) Busy() bool { return len(s.running)+len(s.waiting) > 0 }

// CanStart reports whether a refresh of a may start now: the manager would
// send it (accounts.CanRefresh) and none runs or waits for it already.
func (s *Scheduler) CanStart(a *accounts.Account) bool {
	return s.Job(a.ID) == common.NoJob && accounts.CanRefresh(*a) == nil
}

// Refresh starts, or queues, the refresh the user asked for of a; when
// none can help, it sends nothing and says what does instead. A refresh
// of a already under way is left alone.
func (s *Scheduler) Refresh(a accounts.Account) (tea.Cmd, common.Notice) {
	if s.Job(a.ID) != common.NoJob {
		return nil, common.Notice{}
	}
	var cannot *accounts.CannotRefreshError
	if errors.As(accounts.CanRefresh(a), &cannot) {
		return nil, s.cannot(a.Name, cannot.State)
	}
	return s.add(job{seen: a, mode: accounts.Explicit}), common.Notice{}
}

// RefreshAll refreshes every account that can be refreshed now, and says
// so; it reports once at the end (see Finished.Progress).
func (s *Scheduler) RefreshAll(accts iter.Seq[*accounts.Account]) (tea.Cmd, common.Notice) {
	var due []accounts.Account
	skipped, firstSkipped := 0, ""
	for a := range accts {
		switch {
		case s.CanStart(a):
			due = append(due, *a)
		case s.Job(a.ID) == common.NoJob:
			if skipped++; skipped == 1 {
				firstSkipped = a.Name
			}
		}
	}
	if len(due) == 0 {
		return nil, common.Notice{Text: "nothing to refresh: no account has a usable refresh token", Tone: present.ToneWarn}
	}
	s.batch = batch{id: s.batch.id + 1, total: len(due), skipped: skipped, firstSkipped: firstSkipped}
	cmds := make([]tea.Cmd, 0, min(len(due), MaxInFlight))
	for _, a := range due {
		if cmd := s.add(job{seen: a, mode: accounts.Explicit, batch: s.batch.id}); cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
	return tea.Batch(cmds...), common.Notice{Text: s.batch.progress(), Tone: present.ToneBusy}
}

// Tick starts the automatic refreshes that are due at now, when the last
// look planned one by now: accounts whose access token is within margin
// of its end (never more than half its life before, see
// accounts.Account.RefreshDue) and whose last failed refresh may be tried
// again (accounts.Account.RetryAt). It plans the next look; nothing is
// allocated per account.
func (s *Scheduler) Tick(now time.Time, margin time.Duration, accts iter.Seq[*accounts.Account]) tea.Cmd {
	if now.Before(s.nextDue) {
		return nil
	}
	next := now.Add(idleLook)
	var due []accounts.Account
	for a := range accts {
		if !autoCandidate(a) || s.Job(a.ID) != common.NoJob {
			continue
		}
		at := a.RefreshDue(margin)
		if retry := a.RetryAt(now); retry.After(at) {
			at = retry
		}
		if !at.After(now) {
			if len(s.running)+len(due) < MaxInFlight {
				due = append(due, *a)
				continue
			}
			at = now.Add(time.Second) // a slot frees up soon
		}
		if at.Before(next) {
			next = at
		}
	}
	s.nextDue = next
	if len(due) == 0 {
		return nil
	}
	cmds := make([]tea.Cmd, len(due))
	for i, a := range due {
		cmds[i] = s.add(job{seen: a, mode: accounts.Automatic})
	}
	return tea.Batch(cmds...)
}

// autoCandidate reports whether a may be refreshed in the background: the
// manager would send it (never an account waiting for a new login: that
// would loop on the rejection), and its expiry is known.
func autoCandidate(a *accounts.Account) bool {
	return !a.Expiry.IsZero() && accounts.CanRefresh(*a) == nil
}

// NextDue is when the auto-refresh looks at the accounts again.
func (s *Scheduler) NextDue() time.Time { return s.nextDue }

// Replan makes the next Tick look at every account: the accounts or the
// settings changed.
func (s *Scheduler) Replan() { s.nextDue = time.Time{} }

// Keep forgets the waiting refreshes of the accounts has says are gone;
// those running end by themselves.
func (s *Scheduler) Keep(has func(id string) bool) {
	kept := s.queue[:0]
	for _, j := range s.queue {
		if has(j.seen.ID) {
			kept = append(kept, j)
		} else {
			delete(s.waiting, j.seen.ID)
		}
	}
	clear(s.queue[len(kept):])
	s.queue = kept
}

// add starts j, or queues it when MaxInFlight refreshes run.
func (s *Scheduler) add(j job) tea.Cmd {
	if len(s.running) >= MaxInFlight {
		s.waiting[j.seen.ID] = struct{}{}
		s.queue = append(s.queue, j)
		return nil
	}
	return s.start(j)
}

// start runs j through the manager.
func (s *Scheduler) start(j job) tea.Cmd {
	s.running[j.seen.ID] = j
	mgr, ctx := s.c.Manager, s.c.Ctx
	return func() tea.Msg {
		got, err := mgr.Refresh(ctx, j.seen, j.mode)
		return doneMsg{job: j, got: got, err: err}
	}
}

// Update handles the scheduler's own messages: a refresh that ended frees
// its slot for the next waiting one, and is reported. ok reports whether
// msg was the scheduler's.
func (s *Scheduler) Update(msg tea.Msg) (fin Finished, cmd tea.Cmd, ok bool) {
	done, ok := msg.(doneMsg)
	if !ok {
		return Finished{}, nil, false
	}
	delete(s.running, done.job.seen.ID)
	var cmds []tea.Cmd
	for len(s.running) < MaxInFlight && len(s.queue) > 0 {
		j := s.queue[0]
		s.queue[0] = job{}
		s.queue = s.queue[1:]
		delete(s.waiting, j.seen.ID)
		cmds = append(cmds, s.start(j))
	}
	s.Replan() // the refreshed account is due at another time
	return s.report(done), tea.Batch(cmds...), true
}
