package readmodel_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/codec"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/readmodel"
)

// fixture is a read model on a real JetStream log and a real Pebble store.
type fixture struct {
	ctx   context.Context
	log   *eventlog.Log
	model *readmodel.Model
	seq   uint64 // the log's last sequence
}

func newFixture(t *testing.T, rebuilds readmodel.Rebuilds) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	srv := natstest.Start(t)
	log, err := eventlog.Open(ctx, srv.JetStream(t), eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := readmodel.New(log, openStore(t), readmodel.Options{Logger: testkit.Quiet(), ReadWait: 300 * time.Millisecond,
		Rebuilds: rebuilds})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{ctx: ctx, log: log, model: m}
}

// openStore opens an empty store, closed with the test.
func openStore(t *testing.T) *projector.Store {
	t.Helper()
	st, err := projector.Open(projector.Options{Dir: t.TempDir(), Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// start appends n conversations, each one event on its own subject.
func (f *fixture) start(t *testing.T, n int) {
	t.Helper()
	for range n {
		id := fmt.Sprintf("c%d", f.seq+1)
		ev, err := events.New(events.ConversationStarted, events.ConversationSubject(id), time.Now(), "cmd-"+id, 0,
			testkit.Started(id, "instagram:alice", "instagram:bob"))
		if err != nil {
			t.Fatal(err)
		}
		ev.StreamVersion = 1
		if f.seq, _, err = f.log.Append(f.ctx, events.ConversationSubject(id), 0, "cmd-"+id, testkit.Encode(t, ev)); err != nil {
			t.Fatal(err)
		}
	}
}

// run runs the model's loops until the test ends.
func (f *fixture) run(t *testing.T) {
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{}, 2)
	go func() { _ = f.model.Run(ctx); done <- struct{}{} }()
	go func() { _ = f.model.RunRebuilds(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
}

// A query is held until the views have applied the log as of the start,
// then answered; a position beyond the log is refused at once.
func TestWaitHoldsQueriesUntilCaughtUpAtStart(t *testing.T) {
	f := newFixture(t, nil)
	f.start(t, 5)
	if err := f.model.NoteStart(f.ctx); err != nil {
		t.Fatal(err)
	}
	if f.model.CaughtUpAtStart() || f.model.StartSeq() != 5 {
		t.Fatalf("before the views ran: caught up %v at start seq %d; want false, 5", f.model.CaughtUpAtStart(), f.model.StartSeq())
	}
	if err := f.model.Wait(f.ctx, 0, "", true); !errors.Is(err, readmodel.ErrNotCaughtUp) {
		t.Fatalf("a query before the views ran: %v; want ErrNotCaughtUp", err)
	}
	if err := f.model.Wait(f.ctx, 0, "", false); err != nil {
		t.Fatalf("the status query waits for nothing: %v", err)
	}
	if err := f.model.Wait(f.ctx, 6, "", false); !errors.Is(err, codec.ErrBadRequest) {
		t.Fatalf("min_seq beyond the log: %v; want a bad request", err)
	}
	f.run(t)
	if err := f.model.Wait(f.ctx, 5, "", true); err != nil {
		t.Fatal(err)
	}
	if !f.model.CaughtUpAtStart() || f.model.MustWait(5, "", true) {
		t.Fatal("the views applied the log as of the start, yet a query must still wait")
	}
}

// Swap catches a fresh store up with the log and makes it the one that
// answers; the feeds and the old store go to the caller.
func TestSwapCatchesUpAFreshStore(t *testing.T) {
	f := newFixture(t, nil)
	f.start(t, 4)
	live := f.model.Views()
	f.run(t)
	rebuilt := openStore(t)
	old, err := f.model.Swap(f.ctx, rebuilt)
	if err != nil {
		t.Fatal(err)
	}
	if old != live || f.model.Views() != rebuilt || rebuilt.Checkpoint() != 4 {
		t.Fatalf("after the swap: old is the live store %v, views are the rebuilt %v, at %d; want true, true, 4",
			old == live, f.model.Views() == rebuilt, rebuilt.Checkpoint())
	}
	f.start(t, 1)
	if err := f.model.Wait(f.ctx, 5, "", false); err != nil {
		t.Fatalf("the rebuilt store follows the log: %v", err)
	}
}

// dirRebuilds rebuilds into fresh stores and records what it was told.
type dirRebuilds struct {
	t         *testing.T
	committed chan *projector.Store
}

func (r dirRebuilds) Open() (*projector.Store, error)          { return openStore(r.t), nil }
func (r dirRebuilds) Commit(_, rebuilt *projector.Store) error { r.committed <- rebuilt; return nil }
func (r dirRebuilds) Discard(*projector.Store) error           { return nil }

// An online rebuild runs once at a time, swaps its store in and reports
// its progress; without a place to rebuild into it is refused.
func TestRebuildSwapsAndReports(t *testing.T) {
	rb := dirRebuilds{t: t, committed: make(chan *projector.Store, 1)}
	f := newFixture(t, rb)
	f.start(t, 3)
	if p := f.model.RebuildProgress(); p != nil {
		t.Fatalf("progress before any rebuild: %+v", p)
	}
	f.run(t)
	r, err := f.model.StartRebuild(f.ctx)
	if err != nil || r.Joined || r.Progress.Target != 3 {
		t.Fatalf("StartRebuild: %+v, %v; want a new rebuild up to 3", r, err)
	}
	rebuilt := <-rb.committed
	if f.model.Views() != rebuilt {
		t.Fatal("the committed store does not answer")
	}
	deadline := time.Now().Add(10 * time.Second)
	p := f.model.RebuildProgress()
	for p.State == api.RebuildRunning && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		p = f.model.RebuildProgress()
	}
	if p.State != api.RebuildDone || p.Applied != 3 || p.FinishedAt == nil {
		t.Fatalf("progress: %+v; want done at 3", p)
	}
	if _, err := newFixture(t, nil).model.StartRebuild(f.ctx); !errors.Is(err, readmodel.ErrNoRebuilds) {
		t.Fatalf("a rebuild without Rebuilds: %v; want ErrNoRebuilds", err)
	}
}

func TestValidateRefusesANegativeReadWait(t *testing.T) {
	if _, err := readmodel.New(nil, nil, readmodel.Options{ReadWait: -time.Second}); !errors.Is(err, readmodel.ErrInvalidOptions) {
		t.Fatalf("New with ReadWait -1s: %v; want ErrInvalidOptions", err)
	}
}
