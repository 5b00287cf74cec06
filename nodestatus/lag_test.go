package nodestatus_test

import (
	"context"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/nodestatus"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// Issue 23: on a partitioned log the lag's age is that of the oldest event
// the views have not applied, whichever stream holds it, not 0: events an
// hour, ten and five minutes old wait in the partitions they fall in.
func TestLagAgeOnPartitionedLog(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := natstest.Start(t)
	l, err := eventlog.Open(ctx, srv.JetStream(t), eventlog.Options{Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	store, err := projector.Open(projector.Options{Dir: t.TempDir(), Logger: testkit.Quiet(), Streams: len(l.Streams())})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	streams := map[int]bool{}
	// In the order of their time, as a log holds them.
	for _, age := range []time.Duration{time.Hour, 10 * time.Minute, 5 * time.Minute} {
		subject := appendAged(ctx, t, l, now.Add(-age))
		streams[l.StreamIndexOf(subject)] = true
	}
	r := nodestatus.New(nodestatus.Config{Now: func() time.Time { return now }}, logSource{log: l, views: store})
	behind, seconds, err := r.Lag(ctx)
	if err != nil || behind != 3 || seconds != time.Hour.Seconds() {
		t.Fatalf("lag of 3 unapplied events in %d stream(s), the oldest an hour old: %d events, %v s, %v", len(streams), behind, seconds, err)
	}
}

// appendAged appends a conversation's start, made at the time at, to the
// stream its subject falls in, and returns the subject.
func appendAged(ctx context.Context, t *testing.T, l *eventlog.Log, at time.Time) string {
	t.Helper()
	id := events.NewID()
	e, err := events.New(events.ConversationStarted, id, at, events.NewID(), 1,
		events.ConversationStartedData{ConversationID: id, Participants: []events.Account{"instagram:al", "messenger:bo"}, StartedBy: "instagram:al"})
	if err != nil {
		t.Fatal(err)
	}
	e.ID, e.StreamVersion = events.NewID(), 1
	subject := events.ConversationSubject(id)
	if _, _, err := l.Append(ctx, subject, 0, "", testkit.Encode(t, e)); err != nil {
		t.Fatal(err)
	}
	return subject
}

// logSource is the Source of a service on the log l with the read model
// views, which follows it and runs.
type logSource struct {
	log   *eventlog.Log
	views *projector.Store
}

func (s logSource) LastSeq(ctx context.Context) (uint64, error) {
	seqs, err := s.log.LastSeqs(ctx)
	var sum uint64
	for _, seq := range seqs {
		sum += seq
	}
	return sum, err
}

func (s logSource) Views() nodestatus.Views { return s.views }
func (s logSource) Get(ctx context.Context, seq uint64) (events.Message, error) {
	return s.log.Get(ctx, seq)
}
func (s logSource) Partitioned() nodestatus.Partitioned                 { return s.log }
func (s logSource) Streams(context.Context) ([]api.StreamStatus, error) { return nil, nil }
func (s logSource) Counted() api.Status                                 { return api.Status{} }
func (s logSource) Projecting() bool                                    { return true }
func (s logSource) CaughtUpAtStart() bool                               { return true }
func (s logSource) StartSeq() uint64                                    { return 0 }
