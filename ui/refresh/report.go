package refresh

import (
	"errors"
	"fmt"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// batch follows one refresh-all.
type batch struct {
	id                    int
	total, done, skipped  int
	failed                int
	firstFail, firstError string
	firstSkipped          string // the name of an account skipped
}

// progress is the notice while a refresh-all runs.
func (b *batch) progress() string {
	text := fmt.Sprintf("refreshing %s… %d done", present.Count(b.total, "account"), b.done)
	if b.skipped > 0 {
		text += fmt.Sprintf(" (%d skipped: revoked, login required or nothing to refresh with)", b.skipped)
	}
	return text
}

// summary is the notice at the end of a refresh-all.
func (b *batch) summary() common.Notice {
	text := "refreshed " + present.Count(b.total, "account")
	tone := present.ToneOK
	if b.failed > 0 {
		text = fmt.Sprintf("refreshed %d of %s", b.done-b.failed, present.Count(b.total, "account"))
		text += fmt.Sprintf("; %s failed: %s", b.firstFail, b.firstError)
		if b.failed > 1 {
			text += fmt.Sprintf(" (and %d more — see their status)", b.failed-1)
		}
		tone = present.ToneDanger
	}
	if b.skipped > 0 {
		text += fmt.Sprintf("; %d skipped, which cannot be refreshed: %s", b.skipped, present.OneLine(b.firstSkipped))
		if b.skipped > 1 {
			text += fmt.Sprintf(" and %d more", b.skipped-1)
		}
	}
	return common.Notice{Text: text, Tone: tone}
}

// report says what a refresh that ended did: at once, or at the end of
// the refresh-all it belongs to.
func (s *Scheduler) report(done doneMsg) Finished {
	got, err := done.got, done.err
	fin := Finished{Account: got.Account, Region: s.regionNote(got)}
	a := got.Account
	if a.ID == "" {
		a = done.job.seen
	}
	if err == nil && got.Stale != nil {
		// An automatic refresh that failed, or was held back after a
		// failure, while the token still works: a failure all the same.
		err = got.Stale
	}
	b := &s.batch
	inBatch := done.job.batch != 0 && done.job.batch == b.id
	if !inBatch {
		fin.Notice = s.outcome(done.job, a, err)
		return fin
	}
	b.done++
	if err != nil {
		b.failed++
		if b.firstFail == "" {
			b.firstFail, b.firstError = present.OneLine(a.Name), err.Error()
		}
	}
	if b.done == b.total {
		fin.Notice = b.summary()
	} else {
		fin.Progress = b.progress()
	}
	return fin
}

// outcome is the notice of one refresh that ended, outside a refresh-all.
func (s *Scheduler) outcome(j job, a accounts.Account, err error) common.Notice {
	name := present.OneLine(a.Name)
	auto := j.mode == accounts.Automatic
	var cannot *accounts.CannotRefreshError
	switch {
	case err == nil && auto:
		return common.Notice{}
	case err == nil:
		return common.Notice{Text: fmt.Sprintf("refreshed %s — valid for %s", name, validFor(a, s.now())), Tone: present.ToneOK}
	case errors.As(err, &cannot):
		// Another keyfob found the account dead first.
		return s.cannot(a.Name, cannot.State)
	case errors.Is(err, accounts.ErrLoginRequired):
		// The refresh token is dead: no amount of retrying helps.
		return s.cannot(a.Name, accounts.StateLoginRequired)
	case auto && (errors.Is(err, accounts.ErrBackoff) || failures(a) > 1):
		// Nothing new: no request went out, or the background failed
		// again. The status column shows it.
		return common.Notice{}
	}
	text := fmt.Sprintf("refreshing %s failed: %s", name, present.RefreshFailure(a.Name, err))
	if at := a.RetryAt(s.now()); auto && !at.IsZero() {
		text += " — retrying in " + present.Approx(at.Sub(s.now()))
	}
	return common.Notice{Text: text, Tone: present.ToneDanger}
}

// failures is how many refreshes of a failed in a row.
func failures(a accounts.Account) int {
	if a.LastRefresh == nil || a.LastRefresh.OK {
		return 0
	}
	return a.LastRefresh.Failures
}

// cannot says why no refresh can help the account named name, in state,
// and what does.
func (s *Scheduler) cannot(name string, state accounts.State) common.Notice {
	name = present.OneLine(name)
	k := s.c.Keys
	switch state {
	case accounts.StateRevoked:
		return common.Notice{Text: fmt.Sprintf("%s was revoked; sign in again with %s", name, k.New), Tone: present.ToneWarn}
	case accounts.StateLoginRequired:
		return common.Notice{Text: fmt.Sprintf("%s needs a new login: the server rejected its refresh token — sign in again with %s", name, k.New),
			Tone: present.ToneDanger}
	}
	return common.Notice{Text: fmt.Sprintf("%s has no refresh token; sign in again with %s or import one with %s", name, k.New, k.Import),
		Tone: present.ToneWarn}
}

// regionNote says where a refresh's tokens moved the account, if they did.
func (s *Scheduler) regionNote(got accounts.Refreshed) common.Notice {
	c := oauth.RegionChangeOf(got.Before, got.Account)
	if !c.Changed() || got.Before.ID == "" {
		return common.Notice{}
	}
	text, tone := present.RegionNote(c)
	if c.Refused != nil {
		text += " (" + s.c.Keys.Edit + " edits its region)"
	}
	return common.Notice{Text: present.OneLine(got.Account.Name) + ": " + text, Tone: tone}
}

// validFor says how long an account's access token is good for.
func validFor(a accounts.Account, now time.Time) string {
	if a.Expiry.IsZero() {
		return "an unknown time"
	}
	return present.Approx(a.Expiry.Sub(now))
}
