package backup

import "sync"

// tally adds up the bytes done over a run of streams for a Progress
// callback. jsm.go reports a stream's progress from goroutines of its
// own, some of them a moment after the stream is done, so every report
// is serialized, the count never goes back, and none is passed on once
// the tally is closed: the caller's callback is done with when Backup or
// Restore returns.
type tally struct {
	mu     sync.Mutex
	total  uint64
	base   uint64 // bytes of the streams before the current one
	done   uint64
	report func(done, total uint64)
	closed bool // no report is passed on
}

func newTally(total uint64, show func(done, total uint64)) *tally {
	return &tally{total: total, report: show}
}

// start begins a stream of size bytes and returns the count before it.
func (t *tally) start(size uint64) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	base := t.base
	t.base += size
	return base
}

// show reports done bytes, unless more were reported already.
func (t *tally) show(done uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if done < t.done || t.closed {
		return
	}
	t.done = min(done, t.total)
	if t.report != nil {
		t.report(t.done, t.total)
	}
}

// finish reports the whole: every stream is done.
func (t *tally) finish() { t.show(t.total) }

// close passes on no report after it returns.
func (t *tally) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
}
