package accounts

import (
	"context"
	"os"
	"strings"
	"sync"
	"time"
)

// watchSourceOf is how a Watcher learns of a backend's changes.
func watchSourceOf(w *Watcher, b backend, tell func(lookFor) lookFor) watchSource {
	if s, ok := b.(*etcdStore); ok {
		return s.newWatch(w)
	}
	return b.(*fileStore).newWatch(tell)
}

// fileMark identifies a file or directory as last seen: which one it is,
// its size and its time. Every keyfob write renames a new file into place,
// and an edit by hand changes the time or size.
type fileMark struct {
	info os.FileInfo
}

func markOf(path string) fileMark {
	fi, err := os.Lstat(path)
	if err != nil {
		return fileMark{}
	}
	return fileMark{fi}
}

func (a fileMark) same(b fileMark) bool {
	switch {
	case a.info == nil || b.info == nil:
		return a.info == nil && b.info == nil
	}
	return os.SameFile(a.info, b.info) && a.info.Size() == b.info.Size() && a.info.ModTime().Equal(b.info.ModTime())
}

// recent reports a mark whose time is so close to now that a write in the
// same clock tick could follow unseen (file systems keep coarse times).
func (a fileMark) recent(now time.Time) bool {
	return a.info != nil && now.Sub(a.info.ModTime()) < time.Second
}

// storeMarks is what a look at a file store sees without reading it.
type storeMarks struct {
	marker, records, consumers fileMark
	recovery                   []fileMark
}

func (s *fileStore) marks() storeMarks {
	out := storeMarks{marker: markOf(s.path(StoreFile)), records: markOf(s.path(recordsDir)),
		consumers: markOf(s.path(consumersFile))}
	for _, d := range s.recoveryDirs() {
		out.recovery = append(out.recovery, markOf(d))
	}
	return out
}

// recordMarks marks every record file, by id.
func (s *fileStore) recordMarks() map[string]fileMark {
	ids, err := s.listIDs(0)
	if err != nil {
		return nil
	}
	out := make(map[string]fileMark, len(ids))
	for _, id := range ids {
		out[id] = markOf(s.recordPath(id))
	}
	return out
}

// fileWatch looks at a file store without reading it: when the records
// directory changed (or changed so recently that a second change could
// hide in the same clock tick), it compares every record file's mark with
// the last look and tells the ids that differ; a changed consumers file,
// marker or recovery directory is told too. A look at an unchanged store
// is a few lstat calls, whatever the number of accounts.
type fileWatch struct {
	s    *fileStore
	tell func(lookFor) lookFor // returns what could not be read

	mu       sync.Mutex
	last     storeMarks
	recs     map[string]fileMark
	lastFull time.Time // the last time every record's mark was compared
	retry    lookFor   // what the last look could not read, told again
}

// fullScanEvery is how often every record's mark is compared even when
// the records directory did not change: a record edited in place (not
// renamed into it, as keyfob writes) changes its own time alone.
const fullScanEvery = 5 * time.Second

func (s *fileStore) newWatch(tell func(lookFor) lookFor) watchSource {
	return &fileWatch{s: s, tell: tell, last: s.marks(), recs: s.recordMarks(), lastFull: time.Now()}
}

func (w *fileWatch) run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.look(false)
		}
	}
}

// checkConsumers looks at the consumers file alone, now.
func (w *fileWatch) checkConsumers() { w.look(true) }

func (w *fileWatch) look(consumersOnly bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, now := w.s, time.Now()
	cur := w.last
	cur.consumers = markOf(s.path(consumersFile))
	consumers := !cur.consumers.same(w.last.consumers) || w.last.consumers.recent(now)
	if consumersOnly {
		if (consumers && !cur.consumers.same(w.last.consumers)) || w.retry.consumers {
			w.last.consumers = cur.consumers
			w.retry.consumers = w.tell(lookFor{consumers: true}).consumers
		}
		return
	}
	cur = s.marks()
	var ids []string
	if !cur.records.same(w.last.records) || w.last.records.recent(now) || now.Sub(w.lastFull) >= fullScanEvery {
		w.lastFull = now
		next := s.recordMarks()
		for id, mk := range next {
			if old, ok := w.recs[id]; !ok || !old.same(mk) {
				ids = append(ids, id)
			}
		}
		for id := range w.recs {
			if _, ok := next[id]; !ok {
				ids = append(ids, id)
			}
		}
		w.recs = next
	}
	all := !cur.marker.same(w.last.marker)
	for i := range cur.recovery {
		all = all || !cur.recovery[i].same(w.last.recovery[i]) || w.last.recovery[i].recent(now)
	}
	w.last = cur
	l := w.retry.merge(lookFor{ids: ids, all: all, consumers: consumers})
	w.retry = lookFor{}
	if !l.empty() {
		w.retry = w.tell(l)
	}
}

// isRecordName reports a record file's name.
func isRecordName(name string) (string, bool) {
	id, ok := strings.CutSuffix(name, ".json")
	return id, ok && ValidID(id)
}
