package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/service"
	"github.com/crosstalk-dev/crosstalk/snapshots"
)

// loadCounter counts the events the service loads from the log.
type loadCounter struct {
	service.Log
	loaded atomic.Int64
}

func (l *loadCounter) LoadPage(ctx context.Context, subject string, afterSeq uint64) ([]events.Message, bool, error) {
	msgs, more, err := l.Log.LoadPage(ctx, subject, afterSeq)
	l.loaded.Add(int64(len(msgs)))
	return msgs, more, err
}

// longConversation starts a conversation of a and b on h and sends n
// messages into it, a and b in turn, and returns its id and the messages'.
func longConversation(h *harness, n int) (conv string, ids []string) {
	a, b := events.Account("messenger:a"), events.Account("messenger:b")
	conv = h.must(a, api.ActionConversationStart, map[string]any{"participants": []string{string(b)}}).ConversationID
	for i := range n {
		r := h.must([]events.Account{a, b}[i%2], api.ActionMessageSend, map[string]any{"conversation_id": conv, "text": "hi"})
		ids = append(ids, r.MessageID)
	}
	return conv, ids
}

// withSnapshots restarts h's service with snapshots every `every` events,
// counting what a cold start loads from the log.
func withSnapshots(h *harness, every int) *loadCounter {
	h.t.Helper()
	store, err := snapshots.Open(h.ctx, h.js, snapshots.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	counter := &loadCounter{}
	h.wrapLog = func(l service.Log) service.Log { counter.Log = l; return counter }
	h.restart(service.Options{Snapshots: store, SnapshotEvery: every})
	return counter
}

// A conversation far longer than a conversation's memory, restarted cold,
// loads from its snapshot, not from its first event, and decides on its
// oldest messages from their records as it did before: the sender check,
// an unsent message, a repeated producer id.
func TestLongConversationLoadsFromItsSnapshot(t *testing.T) {
	h := newHarness(t)
	withSnapshots(h, 64)
	conv, ids := longConversation(h, 700)
	a, b := events.Account("messenger:a"), events.Account("messenger:b")

	counter := withSnapshots(h, 64) // a cold cache
	h.must(a, api.ActionMessageEdit, map[string]any{"conversation_id": conv, "message_id": ids[0], "text": "edited"})
	if n := counter.loaded.Load(); n >= 64+1 {
		t.Errorf("the cold load read %d events of a conversation of %d; want fewer than a snapshot interval (64)", n, len(ids)+1)
	}
	h.refused(api.CodeNotSender, b, api.ActionMessageEdit, map[string]any{"conversation_id": conv, "message_id": ids[2], "text": "x"})
	h.must(b, api.ActionMessageUnsend, map[string]any{"conversation_id": conv, "message_id": ids[1]})
	counter = withSnapshots(h, 64)
	h.refused(api.CodeMessageNotFound, a, api.ActionMessageReact, map[string]any{"conversation_id": conv, "message_id": ids[1], "reaction": "+1"})
	h.refused(api.CodeConflict, a, api.ActionMessageSend, map[string]any{"conversation_id": conv, "message_id": ids[4], "text": "again"})
	h.must(a, api.ActionMessageReact, map[string]any{"conversation_id": conv, "message_id": ids[3], "reaction": "+1"})
}

// A snapshot the log contradicts (its chain hash is not the event's at its
// sequence) is not used: the conversation is folded from its first event,
// and decides as before.
func TestSnapshotOffTheLogIsNotTrusted(t *testing.T) {
	h := newHarness(t)
	withSnapshots(h, 64)
	conv, ids := longConversation(h, 300)
	kv, err := h.js.KeyValue(h.ctx, snapshots.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(h.ctx, "c."+conv)
	if err != nil {
		t.Fatal(err)
	}
	var snap map[string]any
	if err := json.Unmarshal(e.Value(), &snap); err != nil {
		t.Fatal(err)
	}
	snap["stream"].(map[string]any)["last_hash"] = strings.Repeat("0", 64)
	forged, _ := json.Marshal(snap)
	if _, err := kv.Put(h.ctx, "c."+conv, forged); err != nil {
		t.Fatal(err)
	}
	counter := withSnapshots(h, 64)
	h.must("messenger:a", api.ActionMessageEdit, map[string]any{"conversation_id": conv, "message_id": ids[0], "text": "edited"})
	if n := counter.loaded.Load(); n < int64(len(ids)) {
		t.Errorf("loaded %d events after a forged snapshot, want the whole conversation (%d)", n, len(ids)+1)
	}
}

// pagedLog cuts every page of conversation conv to pageSize messages, and
// fails its failAt-th page (counting from 1) as a log that did not answer
// in time.
type pagedLog struct {
	loadCounter
	slow     time.Duration // each page of conv takes this long after it is read
	conv     string
	pageSize int
	pages    atomic.Int64
	failAt   int64
}

func (l *pagedLog) LoadPage(ctx context.Context, subject string, afterSeq uint64) ([]events.Message, bool, error) {
	if subject != events.ConversationSubject(l.conv) {
		return l.Log.LoadPage(ctx, subject, afterSeq)
	}
	defer time.Sleep(l.slow) // a page that takes long to fold: the time runs out between pages
	if l.pages.Add(1) == l.failAt {
		return nil, false, eventlog.ErrUnavailable
	}
	msgs, more, err := l.loadCounter.LoadPage(ctx, subject, afterSeq)
	if len(msgs) > l.pageSize {
		l.loaded.Add(int64(l.pageSize - len(msgs))) // counted what it keeps only
		msgs, more = msgs[:l.pageSize], true
	}
	return msgs, more, err
}

// A conversation whose first load runs out of time (its history written
// before snapshots) keeps what it folded: the command is refused
// unavailable, and the next one goes on from there, not from the start.
func TestALongFirstLoadGoesOnWhereItStopped(t *testing.T) {
	h := newHarness(t)
	conv, ids := longConversation(h, 300) // no snapshots: folded from the start
	paged := &pagedLog{conv: conv, pageSize: 50, failAt: 4}
	store, err := snapshots.Open(h.ctx, h.js, snapshots.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.wrapLog = func(l service.Log) service.Log { paged.Log = l; return paged }
	h.restart(service.Options{Snapshots: store, SnapshotEvery: 64})
	edit := map[string]any{"conversation_id": conv, "message_id": ids[0], "text": "edited"}
	h.refused(api.CodeUnavailable, "messenger:a", api.ActionMessageEdit, edit)
	if n := paged.loaded.Load(); n != 150 {
		t.Fatalf("the first attempt folded %d events before the log failed, want 150", n)
	}
	h.must("messenger:a", api.ActionMessageEdit, map[string]any{"conversation_id": conv, "message_id": ids[0], "text": "edited"})
	if n := paged.loaded.Load(); n != int64(len(ids)+1) {
		t.Errorf("%d events loaded over both attempts, want each of the %d once", n, len(ids)+1)
	}
}

// A load that runs out of the command's time between two pages is
// answered unavailable (retry), never internal, whatever deadline ran out:
// here CommandTimeout itself, with no append timeout of its own.
func TestALoadOutOfTimeIsUnavailable(t *testing.T) {
	h := newHarness(t)
	conv, ids := longConversation(h, 300)
	paged := &pagedLog{conv: conv, pageSize: 50, slow: 100 * time.Millisecond}
	h.wrapLog = func(l service.Log) service.Log { paged.Log = l; return paged }
	h.restart(service.Options{CommandTimeout: 250 * time.Millisecond, AppendTimeout: 250 * time.Millisecond,
		CloseGrace: 250 * time.Millisecond})
	h.refused(api.CodeUnavailable, "messenger:a", api.ActionMessageEdit,
		map[string]any{"conversation_id": conv, "message_id": ids[0], "text": "edited"})
}
