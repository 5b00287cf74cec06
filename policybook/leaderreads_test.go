package policybook

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A command arriving while a leader read is in flight is answered by a
// later read, never by the one that may predate what it must see; the
// commands arriving meanwhile share that later read.
func TestLeaderReadsAnswerOnlyWithAReadStartedLater(t *testing.T) {
	var r leaderReads
	var calls atomic.Uint64
	inFirst, release := make(chan struct{}), make(chan struct{})
	read := func() (uint64, error) {
		n := calls.Add(1)
		if n == 1 {
			close(inFirst)
			<-release // the first read is held until the others arrived
		}
		return n, nil
	}
	ctx := context.Background()
	first := make(chan uint64, 1)
	go func() { seq, _ := r.last(ctx, read); first <- seq }()
	<-inFirst
	const callers = 5
	var wg sync.WaitGroup
	later := make(chan uint64, callers)
	for range callers {
		wg.Go(func() { seq, _ := r.last(ctx, read); later <- seq })
	}
	waitQueued(t, &r)
	close(release)
	if seq := <-first; seq != 1 {
		t.Fatalf("the first caller got read %d, want 1", seq)
	}
	wg.Wait()
	close(later)
	for seq := range later {
		if seq < 2 {
			t.Fatalf("a caller that arrived during read 1 got read %d, which started before it", seq)
		}
	}
	// Read 1, and one read for all five (a caller slower to reach the
	// lock than the hand-over would queue one more).
	if n := calls.Load(); n > 3 {
		t.Fatalf("%d reads for 1+%d callers in two waves, want 2", n, callers)
	}
	t.Logf("%d reads for 1+%d callers", calls.Load(), callers)
}

// waitQueued waits until a read is queued behind the one in flight, then a
// moment for the other callers to join it.
func waitQueued(t *testing.T, r *leaderReads) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		queued := r.next != nil
		r.mu.Unlock()
		if queued {
			time.Sleep(20 * time.Millisecond)
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no read was queued behind the one in flight")
		}
		time.Sleep(time.Millisecond)
	}
}
