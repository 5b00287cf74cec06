package projector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

func TestWaitForWakesOnApply(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	f.start("c1", alice, bob)
	f.send("c1", "m1", alice, "1")
	first := f.take()
	f.send("c1", "m2", alice, "2")
	second := f.take()

	done := make(chan error, 1)
	go func() { done <- s.WaitFor(context.Background(), 3) }()
	mustApply(t, s, first)
	select {
	case err := <-done:
		t.Fatalf("WaitFor(3) returned %v at checkpoint 2", err)
	case <-time.After(50 * time.Millisecond):
	}
	mustApply(t, s, second)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitFor(3) did not wake at checkpoint 3")
	}
	if err := s.WaitFor(context.Background(), 1); err != nil {
		t.Fatalf("WaitFor an applied seq = %v", err)
	}
}

func TestWaitForRespectsContext(t *testing.T) {
	s := openStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.WaitFor(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor past its deadline = %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := s.WaitFor(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitFor with a canceled context = %v", err)
	}
}

func TestWaitForEndsOnClose(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.WaitFor(context.Background(), 1) }()
	time.Sleep(10 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("WaitFor across Close = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake WaitFor")
	}
}

// fakeSource is a log in memory. It is the projector's own Source interface
// implemented for tests, not a stand-in for NATS.
type fakeSource struct {
	mu        sync.Mutex
	msgs      []events.Message
	froms     []uint64
	batches   []int
	stopAtEnd bool  // return nil at the end, as a source that does not wait
	err       error // returned at the end instead of waiting
}

func (f *fakeSource) Read(ctx context.Context, fromSeq uint64, maxBatch int, fn func([]events.Message) error) error {
	f.mu.Lock()
	f.froms = append(f.froms, fromSeq)
	var runs [][]events.Message
	var run []events.Message
	for _, m := range f.msgs {
		if m.Seq >= fromSeq {
			run = append(run, m)
		}
		if len(run) == maxBatch {
			runs, run = append(runs, run), nil
		}
	}
	if len(run) > 0 {
		runs = append(runs, run)
	}
	for _, r := range runs {
		f.batches = append(f.batches, len(r))
	}
	stop, err := f.stopAtEnd, f.err
	f.mu.Unlock()
	for _, r := range runs {
		if err := fn(r); err != nil {
			return err
		}
	}
	if stop || err != nil {
		return err
	}
	<-ctx.Done()
	return ctx.Err()
}

func (f *fakeSource) add(msgs []events.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, msgs...)
}

func (f *fakeSource) seen() (froms, batches []uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.batches {
		batches = append(batches, uint64(b))
	}
	return append([]uint64(nil), f.froms...), batches
}

func runInBackground(t *testing.T, s *Store, src Source) (cancel func() error) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, src) }()
	return func() error {
		stop()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after cancel")
			return nil
		}
	}
}

// TestRunResumesAfterCheckpointAndStopsOnCancel starts Run on a store that
// has applied part of the log: it reads from the checkpoint on, in runs of
// at most MaxBatch, and returns nil when canceled.
func TestRunResumesAfterCheckpointAndStopsOnCancel(t *testing.T) {
	f := newFeed(t)
	f.start("c1", alice, bob)
	for i := 0; i < 6; i++ {
		f.send("c1", events.NewID(), alice, "hi")
	}
	msgs := f.take()
	s, err := Open(Options{Dir: t.TempDir(), Logger: testkit.Quiet(), MaxBatch: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustApply(t, s, msgs[:3])
	src := &fakeSource{msgs: msgs}
	stop := runInBackground(t, s, src)
	testkit.WaitApplied(t, s, 7)
	if err := stop(); err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	froms, batches := src.seen()
	if len(froms) != 1 || froms[0] != 4 || len(batches) != 2 || batches[0] != 2 {
		t.Fatalf("reads from %v in batches %v, want from 4 in batches of 2", froms, batches)
	}
	assertUnread(t, s, bob, "c1", 6)
}

// TestRunFollowsASourceThatStops checks that a source which returns at the
// end of the log is followed again from the new checkpoint.
func TestRunFollowsASourceThatStops(t *testing.T) {
	f := newFeed(t)
	f.start("c1", alice, bob)
	s, err := Open(Options{Dir: t.TempDir(), Logger: testkit.Quiet(), RetryInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	src := &fakeSource{msgs: f.take(), stopAtEnd: true}
	stop := runInBackground(t, s, src)
	testkit.WaitApplied(t, s, 1)
	f.send("c1", "m1", alice, "later")
	src.add(f.take())
	testkit.WaitApplied(t, s, 2)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	froms, _ := src.seen()
	if froms[0] != 1 || !slices.Contains(froms, 2) {
		t.Fatalf("reads from %v, want from 1, then from 2 once seq 1 was applied", froms)
	}
}

// A failing source (a broker restart) stalls the views but does not stop
// them: Run logs, retries, and returns nil when its context ends.
func TestRunRetriesSourceErrors(t *testing.T) {
	var logs testkit.LockedBuffer
	s := openStoreIn(t, t.TempDir(), logs.Logger())
	src := &fakeSource{err: errors.New("connection lost")}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.Run(ctx, src); err != nil {
		t.Fatalf("Run = %v, want nil after its context ends", err)
	}
	if froms, _ := src.seen(); len(froms) < 2 {
		t.Fatalf("Run must retry the source, read %d times", len(froms))
	}
	if !strings.Contains(logs.String(), "connection lost") {
		t.Fatalf("the failure must be logged: %s", logs.String())
	}
}

// TestSettleReturnsOnceCompactionsAreDone writes enough to flush and
// compact, then checks that Settle returns with nothing running.
func TestSettleReturnsOnceCompactionsAreDone(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	f.start("c1", alice, bob)
	for i := range 2000 {
		f.send("c1", fmt.Sprintf("m%d", i), alice, strings.Repeat("x", 400))
	}
	mustApply(t, s, f.take())
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	m := s.db.Metrics()
	if m.Compact.NumInProgress != 0 || m.Flush.NumInProgress != 0 {
		t.Fatalf("after Settle: %d compactions and %d flushes running", m.Compact.NumInProgress, m.Flush.NumInProgress)
	}
}
