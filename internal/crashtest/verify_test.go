package crashtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// offline is the data directory of a stopped serve, opened the way serve
// opens it: the embedded broker on its JetStream files, the event log, and
// the live views.
type offline struct {
	log   *eventlog.Log
	views *projector.Store
}

func openOffline(ctx context.Context, t *testing.T, dir string) *offline {
	t.Helper()
	s, err := node.OpenStopped(ctx, node.StoppedOptions{Dir: dir, Views: true, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatalf("open the stopped node in %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if s.Views() == nil {
		t.Fatalf("no views in %s", dir)
	}
	return &offline{log: s.Log(), views: s.Views()}
}

// storedEvent is what the checks need of one stream message.
type storedEvent struct {
	seq       uint64 // in its stream
	subject   string
	id        string
	causation string
	typ       events.Type
	time      time.Time // when its command was decided, on the deciding node's clock
}

// history is the log as the checks see it: on a partitioned log every
// stream, one after another (P0 … P{N-1}, POLICY), so each subject's
// events are in their order.
type history struct {
	last     uint64 // the last sequence; on a partitioned log, their sum
	order    *[]storedEvent
	byID     map[string]storedEvent // event id -> event
	causes   map[string]int         // causationid -> events
	closings map[string]int         // conversation id -> conversation.closed events
}

// replay walks the whole stream once, Applies it batch by batch to fresh (a
// new, empty store) and indexes every event.
func (o *offline) replay(ctx context.Context, fresh *projector.Store) (history, error) {
	last, err := o.log.LastSeq(ctx)
	if err != nil {
		return history{}, err
	}
	h := newHistory(last)
	err = readAll(ctx, o.log, last, func(batch []events.Message) error {
		if err := fresh.Apply(batch); err != nil {
			return err
		}
		return h.add(batch)
	})
	return h, err
}

// mustReadHistory opens the stream on js and indexes it up to its last
// sequence now, failing the test if it cannot.
func mustReadHistory(ctx context.Context, t *testing.T, js jetstream.JetStream) history {
	t.Helper()
	log, err := eventlog.OpenExisting(ctx, js, eventlog.Options{Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	h, err := readHistory(ctx, log)
	if err != nil {
		t.Fatalf("read the stream: %v", err)
	}
	return h
}

// readHistory indexes every stream of log up to its last sequence now.
func readHistory(ctx context.Context, log *eventlog.Log) (history, error) {
	h := newHistory(0)
	for _, s := range log.Streams() {
		last, err := s.LastSeq(ctx)
		if err != nil {
			return history{}, err
		}
		h.last += last
		if err := readAll(ctx, s, last, h.add); err != nil {
			return history{}, err
		}
	}
	return h, nil
}

func newHistory(last uint64) history {
	return history{last: last, order: new([]storedEvent), byID: map[string]storedEvent{},
		causes: map[string]int{}, closings: map[string]int{}}
}

// add indexes every event of batch.
func (h history) add(batch []events.Message) error {
	for _, m := range batch {
		e, err := events.Decode(m.Data)
		if err != nil {
			return fmt.Errorf("seq %d does not decode: %w", m.Seq, err)
		}
		se := storedEvent{seq: m.Seq, subject: m.Subject, id: e.ID, causation: e.CausationID, typ: e.Type, time: e.Time}
		*h.order = append(*h.order, se)
		h.byID[e.ID] = se
		h.causes[e.CausationID]++
		if e.Type == events.ConversationClosed {
			h.closings[e.Subject]++
		}
	}
	return nil
}

var errWalked = errors.New("walked to the end")

// readAll passes every message with sequence 1..last to fn in stream order.
func readAll(ctx context.Context, log *eventlog.Log, last uint64, fn func([]events.Message) error) error {
	if last == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var reached uint64
	err := log.Read(ctx, 1, 1000, func(batch []events.Message) error {
		n := len(batch)
		for n > 0 && batch[n-1].Seq > last {
			n--
		}
		if err := fn(batch[:n]); err != nil {
			return err
		}
		if n > 0 {
			reached = batch[n-1].Seq
		}
		if reached >= last {
			return errWalked
		}
		return nil
	})
	switch {
	case errors.Is(err, errWalked):
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("the stream stopped at seq %d of %d: %v", reached, last, ctx.Err())
}

// checkAcked checks that every acknowledged command is in the stream
// exactly once, at the sequence and with the event id its reply named, and
// that no refused command left an event.
func checkAcked(t *testing.T, l *load, h history) {
	t.Helper()
	bad := 0
	report := func(format string, args ...any) {
		if bad++; bad <= 20 {
			t.Errorf(format, args...)
		}
	}
	for id, a := range l.acked {
		if n := h.causes[id]; n != 1 {
			report("%s %s (acknowledged after %d attempts) has %d events in the stream, want 1", a.action, id, a.attempts, n)
			continue
		}
		e, ok := h.byID[a.reply.EventID]
		if !ok || e.causation != id || e.seq != a.reply.StreamSeq {
			report("%s %s: the reply names seq %d, event %s; the stream holds %+v there",
				a.action, id, a.reply.StreamSeq, a.reply.EventID, e)
		}
		if c := a.reply.ConversationID; c != "" && (e.subject != events.ConversationSubject(c) || a.conv != "" && a.conv != c) {
			report("%s %s: the reply names conversation %s, the command named %q, the event is on %s",
				a.action, id, c, a.conv, e.subject)
		}
	}
	for id, code := range l.refused {
		if n := h.causes[id]; n != 0 {
			report("command %s was refused (%s) but has %d events in the stream", id, code, n)
		}
	}
	if bad > 20 {
		t.Errorf("... %d problems in all", bad)
	}
}

// checkClosings checks that the closer closed every acknowledged cross-app
// conversation exactly once, and no same-app one.
func checkClosings(t *testing.T, l *load, h history) (crossApp int) {
	t.Helper()
	for id, a := range l.acked {
		if a.action != "conversation.start" {
			continue
		}
		want := 0
		if a.crossApp {
			want = 1
			crossApp++
		}
		if got := h.closings[a.reply.ConversationID]; got != want {
			t.Errorf("conversation %s (started by %s, cross-app %v) has %d conversation.closed events, want %d",
				a.reply.ConversationID, id, a.crossApp, got, want)
		}
	}
	return crossApp
}

// checkViews checks that the live views are caught up with the stream and
// equal, key for key, to a fresh replay, and that the audit finds no break.
func checkViews(ctx context.Context, t *testing.T, o *offline, fresh *projector.Store, h history) {
	t.Helper()
	if cp := o.views.Checkpoint(); cp != h.last {
		t.Errorf("views checkpoint %d after a clean stop, stream ends at %d", cp, h.last)
	}
	liveSum, liveN, err := o.views.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	freshSum, freshN, err := fresh.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	if liveSum != freshSum || liveN != freshN {
		t.Errorf("views built through the crashes differ from a fresh replay: %s (%d keys) vs %s (%d keys)",
			liveSum, liveN, freshSum, freshN)
	}
	rep, err := audit.Verify(ctx, o.log, o.views)
	if err != nil {
		t.Fatalf("audit verify: %v", err)
	}
	if !rep.OK() {
		t.Errorf("audit verify found %d breaks, first: %+v", rep.BreaksTotal, rep.Breaks[:min(5, len(rep.Breaks))])
	}
	if rep.ViewsChecked != h.last {
		t.Errorf("audit compared %d events with the views, want %d", rep.ViewsChecked, h.last)
	}
	t.Logf("views: %d keys, checksum %s equals a fresh replay; audit: %d events on %d subjects, no break",
		liveN, liveSum[:16], rep.Events, rep.Subjects)
}
