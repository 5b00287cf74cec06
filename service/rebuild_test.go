package service_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
)

// dirRebuilds is the harness's service.Rebuilds: each rebuild in a fresh
// temporary directory, which becomes the harness's views once committed
// (package node has the crash-safe version on a data directory).
type dirRebuilds struct {
	h         *harness
	mu        sync.Mutex
	discarded int
}

func (r *dirRebuilds) Open() (*projector.Store, error) {
	return projector.Open(projector.Options{Dir: r.h.t.TempDir(), Logger: testkit.Quiet()})
}

// Commit runs on the service's goroutine; the harness reads store and
// viewsD only after Run has returned, which orders them.
func (r *dirRebuilds) Commit(old, rebuilt *projector.Store) error {
	r.h.store = rebuilt
	return old.Close()
}

func (r *dirRebuilds) Discard(rebuilt *projector.Store) error {
	r.mu.Lock()
	r.discarded++
	r.mu.Unlock()
	return rebuilt.Close()
}

// rebuildGate, once armed, holds the rebuild's reads (those from seq 1: the
// live store, which has applied the test's first writes, reads from its
// checkpoint on) until open is closed.
type rebuildGate struct {
	service.Log
	armed *atomic.Bool
	open  chan struct{}
}

func (g rebuildGate) Read(ctx context.Context, from uint64, max int, fn func([]events.Message) error) error {
	if from == 1 && g.armed.Load() {
		select {
		case <-g.open:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return g.Log.Read(ctx, from, max, fn)
}

// rebuildStatus asks the status for the latest rebuild's progress.
func (h *harness) rebuildStatus() *api.RebuildProgress {
	h.t.Helper()
	var st api.Status
	h.mustQuery("status", map[string]any{}, &st)
	return st.Rebuild
}

// waitRebuilt polls the status until the rebuild has ended, and returns
// how.
func (h *harness) waitRebuilt() api.RebuildProgress {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if p := h.rebuildStatus(); p != nil && p.State != api.RebuildRunning {
			return *p
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatal("the rebuild did not end within 20s")
	return api.RebuildProgress{}
}

// crosstalk.admin.views.rebuild rebuilds the read model while queries keep
// being answered and commands keep being appended, one rebuild at a time
// (a second request joins the first), and the rebuilt views answer the
// same, and follow the log after the swap.
func TestRebuildViewsOnlineUnderLoad(t *testing.T) {
	h := newHarness(t)
	gate, armed := make(chan struct{}), &atomic.Bool{}
	h.wrapLog = func(l service.Log) service.Log { return rebuildGate{Log: l, armed: armed, open: gate} }
	h.restart(service.Options{})
	s := playBefore(h)
	var before api.InboxPage
	h.mustQuery("inbox", map[string]any{"account": bob}, &before)

	reading := readInboxes(h, bob, 3, func(page api.InboxPage) bool { return reflect.DeepEqual(page, before) })
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// A writer in another conversation: the log grows during the rebuild.
	other := uuid.NewString()
	h.must("instagram:carol", "conversation.start", map[string]any{"conversation_id": other, "participants": []string{"instagram:dave"}})
	wg.Add(1)
	var sent atomic.Int64
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := h.cmd("instagram:carol", "message.send", map[string]any{"conversation_id": other, "text": "during"}); err == nil {
				sent.Add(1)
			}
		}
	}()

	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	armed.Store(true)
	first, err := h.c.RebuildViews(ctx)
	if err != nil || first.Joined || first.Progress.State != api.RebuildRunning || first.Progress.Target == 0 {
		t.Fatalf("start a rebuild: %+v, %v", first, err)
	}
	second, err := h.c.RebuildViews(ctx)
	if err != nil || !second.Joined || !second.Progress.StartedAt.Equal(first.Progress.StartedAt) {
		t.Fatalf("a second request joins the running rebuild: %+v, %v", second, err)
	}
	if p := h.rebuildStatus(); p == nil || p.State != api.RebuildRunning || p.Applied != 0 {
		t.Fatalf("the status shows the held rebuild running: %+v", p)
	}
	close(gate)
	done := h.waitRebuilt()
	close(stop)
	wg.Wait()
	answered, failed := reading.stop()
	if done.State != api.RebuildDone || done.Applied < done.Target || done.FinishedAt == nil {
		t.Fatalf("the rebuild: %+v", done)
	}
	if failed != 0 || answered == 0 || sent.Load() == 0 {
		t.Fatalf("%d of %d queries failed or differed across the rebuild (%d commands sent); the first: %s",
			failed, answered, sent.Load(), reading.firstFailure())
	}
	var after api.InboxPage
	h.mustQuery("inbox", map[string]any{"account": bob}, &after)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("the rebuilt inbox differs:\n%+v\n%+v", before, after)
	}
	r := h.must(alice, "message.send", map[string]any{"conversation_id": s.Cross, "text": "after the rebuild"})
	var conv api.ConversationView
	h.mustQuery("conversation", map[string]any{"conversation_id": s.Cross}, &conv)
	if conv.Version != 6 {
		t.Fatalf("the rebuilt store follows the log after the swap: %+v (reply %+v)", conv, r)
	}
	var st api.Status
	h.mustQuery("status", map[string]any{}, &st)
	if st.ViewsCheckpoint < r.StreamSeq || !st.CaughtUpAtStart {
		t.Fatalf("status after the rebuild: %+v", st)
	}
}

// A service stopped in the middle of a rebuild discards it: the live store
// was never replaced, and the next run serves it.
func TestRebuildViewsStoppedMidwayIsDiscarded(t *testing.T) {
	h := newHarness(t)
	armed := &atomic.Bool{}
	gate := make(chan struct{}) // never opened: the rebuild cannot end
	h.wrapLog = func(l service.Log) service.Log { return rebuildGate{Log: l, armed: armed, open: gate} }
	rb := &dirRebuilds{h: h}
	h.restart(service.Options{Rebuilds: rb})
	s := playBefore(h)
	armed.Store(true)
	if _, err := h.c.RebuildViews(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.wrapLog = nil
	h.restart(service.Options{})
	if rb.discarded != 1 {
		t.Fatalf("the stopped rebuild was not discarded (%d discarded)", rb.discarded)
	}
	if p := h.rebuildStatus(); p != nil {
		t.Fatalf("a restarted service reports no rebuild: %+v", p)
	}
	var conv api.ConversationView
	h.mustQuery("conversation", map[string]any{"conversation_id": s.Cross}, &conv)
	if conv.Version != 5 {
		t.Fatalf("the views after the discarded rebuild: %+v", conv)
	}
}

// A body with fields is a bad request; a rebuild with no room for its
// store is refused, and nothing starts.
func TestRebuildViewsRefusals(t *testing.T) {
	h := newHarness(t)
	m, err := h.c.Raw(h.ctx, api.AdminViewsRebuild, []byte(`{"now":true}`))
	if err != nil || m.Header.Get("Nats-Service-Error-Code") != "400" {
		t.Fatalf("unknown field: %v %v", m, err)
	}
	h.restart(service.Options{Rebuilds: noRebuilds{}})
	if _, err = h.c.RebuildViews(h.ctx); client.CodeOf(err) != api.CodeInternal {
		t.Fatalf("a rebuild with no room for it: %v", err)
	}
	if p := h.rebuildStatus(); p != nil {
		t.Fatalf("a rebuild that could not start shows no progress: %+v", p)
	}
}

// noRebuilds fails to open a store to rebuild into.
type noRebuilds struct{}

func (noRebuilds) Open() (*projector.Store, error)    { return nil, errors.New("no room") }
func (noRebuilds) Commit(_, _ *projector.Store) error { return nil }
func (noRebuilds) Discard(st *projector.Store) error  { return st.Close() }
