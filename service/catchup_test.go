package service_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/service"
)

// heldLog holds every read of the read model until open is closed.
type heldLog struct {
	service.Log
	open chan struct{}
}

func (l heldLog) Read(ctx context.Context, from uint64, max int, fn func([]events.Message) error) error {
	select {
	case <-l.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return l.Log.Read(ctx, from, max, fn)
}

// Monotonic reads across restarts: a service that starts with views behind
// the log (as after a kill -9, when their last batches were not fsynced)
// answers no query from them until they have caught up with the stream's
// last sequence as of the start: it waits ReadWait, then answers 504
// not_caught_up. The status answers meanwhile and says so.
func TestQueriesWaitForTheViewsToCatchUpAfterARestart(t *testing.T) {
	h := newHarness(t)
	s := playBefore(h)
	last := h.lastSeq()
	open := make(chan struct{})
	h.wrapLog = func(l service.Log) service.Log { return heldLog{Log: l, open: open} }
	h.viewsD = t.TempDir() // views far behind the log: empty
	h.restart(service.Options{ReadWait: 100 * time.Millisecond})
	if h.svc.CaughtUpAtStart() {
		t.Fatal("CaughtUpAtStart holds with empty views")
	}
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	var conv api.ConversationView
	err := h.c.Query(ctx, api.QueryConversation, map[string]any{"conversation_id": s.Cross}, &conv)
	if client.CodeOf(err) != api.CodeNotCaughtUp || api.StatusOf(api.CodeNotCaughtUp) != "504" {
		t.Fatalf("a query before the views caught up: %+v, %v", conv, err)
	}
	var st api.Status
	if err := h.c.Query(ctx, api.QueryStatus, map[string]any{}, &st); err != nil {
		t.Fatalf("the status answers while the views catch up: %v", err)
	}
	if st.CaughtUpAtStart || st.StartSeq != last || st.ViewsCheckpoint != 0 {
		t.Fatalf("status while catching up: %+v (last seq %d)", st, last)
	}
	close(open)
	if err := h.c.Query(ctx, api.QueryConversation, map[string]any{"conversation_id": s.Cross}, &conv); err != nil {
		t.Fatalf("a query once the views can catch up: %v", err)
	}
	if conv.Version != 5 || !h.svc.CaughtUpAtStart() {
		t.Fatalf("the first answer after the restart is older than the log: %+v", conv)
	}
}

// A read model that stops following the log (its reads held here, as a
// lost stream leader can hold them) is logged once StallWarn has passed,
// even when far fewer than LagWarn events wait.
func TestStalledViewsAreLogged(t *testing.T) {
	h := newHarness(t)
	open := make(chan struct{})
	defer close(open)
	logs := &testkit.LockedBuffer{}
	h.wrapLog = func(l service.Log) service.Log { return heldLog{Log: l, open: open} }
	h.restart(service.Options{StallWarn: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	h.must(alice, "presence.set", map[string]any{"status": "active"})
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "read model not following the log"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no warning while the views stalled one event behind:\n%s", logs.String())
		}
	}
}
