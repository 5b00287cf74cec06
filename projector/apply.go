package projector

import (
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector/views"
)

// Apply folds a run of log messages, in stream order, into the views: one
// Pebble batch holds every change and meta/checkpoint = the last sequence,
// committed atomically (fsynced only with Options.SyncEveryBatch). Messages at or below the checkpoint are skipped, so
// replaying a run after a restart never applies anything twice. A message
// that does not decode is recorded under poison/<seq> (poison/<stream><seq>
// in a store of several streams), logged and skipped;
// the checkpoint still passes it, because the log will never hold other
// bytes at that sequence. An error (Pebble I/O) leaves the store as it was.
func (s *Store) Apply(msgs []events.Message) error { return s.ApplyStream(0, msgs) }

// ApplyStream is Apply for the messages of one stream of a store of several
// (Options.Streams), in that stream's order, against its own checkpoint.
func (s *Store) ApplyStream(stream int, msgs []events.Message) error {
	if stream < 0 || stream >= len(s.checkpoints) {
		return fmt.Errorf("apply stream %d: the store follows %d stream(s)", stream, len(s.checkpoints))
	}
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	release, err := s.acquire()
	if err != nil {
		return err
	}
	defer release()

	for len(msgs) > 0 {
		n, err := s.applyPart(stream, msgs)
		if err != nil {
			return err
		}
		msgs = msgs[n:]
	}
	return nil
}

// applyPart applies a prefix of msgs in one batch and returns its length:
// all of msgs, or fewer when their feed notes reached Options.RunNotes
// (fanout.go), so that the notes a batch holds until it commits are
// bounded whatever the run.
func (s *Store) applyPart(stream int, msgs []events.Message) (int, error) {
	from := s.checkpointOf(stream)
	b := s.db.NewBatchWithSize(batchSize(msgs))
	defer b.Close()
	t := newTx(b, s.db, s.log, s.records, len(msgs))
	t.feed = s.newFeedTx(stream)
	if len(s.checkpoints) > 1 {
		t.stream = stream
	}
	last, n, err := t.fold(from, msgs, s.checkpointKey(stream))
	if err != nil || last == from {
		return len(msgs), err
	}
	if err := b.Commit(s.commitOpts()); err != nil {
		return 0, fmt.Errorf("commit seqs %d..%d: %w", from+1, last, err)
	}
	s.records.commit(t)
	s.advance(stream, last)
	s.publish(t.feed)
	if s.opts.OnApplied != nil {
		s.opts.OnApplied(t.applied, t.poisoned)
	}
	return n, nil
}

// batchSize estimates the bytes of the batch that applies msgs, so that
// it is allocated once: grown by doubling, a catch-up batch of 10,000
// events was copied a dozen times, 4% of the catch-up's CPU. Each event
// writes its stored bytes under hist/ and about as many again in the views
// (the message, its id, the records and inbox items flushed at the end).
func batchSize(msgs []events.Message) int {
	n := 0
	for _, m := range msgs {
		n += 2*len(m.Data) + batchOverhead
	}
	return n
}

// batchOverhead is the bytes per event of batchSize beyond twice the
// event's own: keys and record headers.
const batchOverhead = 256

// commitOpts says whether a commit waits for fsync. Without it a batch is
// in Pebble's write-ahead log, in the OS's cache, when Apply returns: a
// crash of the process loses nothing, a crash of the machine at most the
// last batches, and never half of one, so the views still agree with their
// checkpoint and Run re-applies the rest from the log.
func (s *Store) commitOpts() *pebble.WriteOptions {
	if s.opts.SyncEveryBatch {
		return pebble.Sync
	}
	return pebble.NoSync
}

// fold writes into the batch the view changes of the messages after seq
// from, and the new checkpoint, which it returns (from itself if nothing was
// new), with how many of msgs it took (applyRun).
func (t *tx) fold(from uint64, msgs []events.Message, cpKey []byte) (uint64, int, error) {
	if err := t.prefetch(msgs); err != nil {
		return from, 0, err
	}
	t.feed.coalescePresence(from, msgs)
	last, n, err := t.applyRun(from, msgs)
	if err != nil || last == from {
		return from, n, err
	}
	if err := t.flush(cpKey, last); err != nil {
		return from, 0, fmt.Errorf("apply seqs %d..%d: %w", from+1, last, err)
	}
	return last, n, nil
}

// applyRun applies the messages after seq from, in order, and returns the
// last sequence applied and how many of msgs it took: all, unless their
// feed notes filled the run's budget first (feedTx.full).
func (t *tx) applyRun(from uint64, msgs []events.Message) (last uint64, n int, err error) {
	last = from
	for i, m := range msgs {
		if m.Seq <= last {
			continue
		}
		if err := t.apply(m); err != nil {
			return from, 0, fmt.Errorf("apply seq %d (%s): %w", m.Seq, m.Subject, err)
		}
		t.applied++
		last = m.Seq
		if t.feed.full() {
			t.dropUnused()
			return last, i + 1, nil
		}
	}
	return last, len(msgs), nil
}

// apply applies one message: its verbatim history, then its view changes.
// A conversation's history is held with its messages (see held) and
// written by flush.
func (t *tx) apply(m events.Message) error {
	d, err := decodeMessage(m)
	if err != nil {
		t.poison(m, err)
		return nil
	}
	t.skipped = false
	if err := t.applyDecoded(m, d); err != nil {
		return err
	}
	return t.notify(d)
}

// applyDecoded applies a decoded message's history and view changes.
func (t *tx) applyDecoded(m events.Message, d decoded) error {
	if d.kind == events.SubjectConversation {
		if err := t.applyConversation(d); err != nil {
			return err
		}
		return t.indexRetention(d)
	}
	t.set(views.HistKey(m.Subject, m.Seq), m.Data)
	if d.kind == events.SubjectAccount {
		return t.applyAccount(d)
	}
	return t.applyPolicy(d)
}

// poison records an undecodable message and lets the run go on.
func (t *tx) poison(m events.Message, cause error) {
	t.poisoned++
	t.log.Warn("projector skips a message it cannot decode",
		slog.Uint64("seq", m.Seq), slog.String("subject", m.Subject), slog.String("error", cause.Error()))
	key := views.PoisonKey(m.Seq)
	if t.stream >= 0 {
		key = views.StreamPoisonKey(t.stream, m.Seq)
	}
	t.setJSON(key, views.PoisonRecord{Subject: m.Subject, Error: cause.Error(), Data: m.Data})
}

// skip logs an event that decodes but does not fit the views (a message id
// the conversation never had, say). The log is the truth and is kept in
// hist/; the views just have nothing to change.
func (t *tx) skip(d decoded, why string) {
	t.skipped = true // no feed note either
	t.log.Warn("projector skips an event that does not fit the views",
		slog.Uint64("seq", d.seq), slog.String("type", string(d.event.Type)),
		slog.String("key", d.key), slog.String("reason", why))
}

// decoded is a log message ready to apply: its envelope, its typed payload,
// and which aggregate it belongs to according to its stream subject.
type decoded struct {
	seq   uint64
	event events.Event
	data  events.Payload // a pointer to the events.*Data type of event.Type
	kind  events.SubjectKind
	key   string // conversation id, account, or "" for the policy subject
	// stored is the message's bytes: a conversation's record keeps their
	// events.Hash (the closer's prevhash) if this is its last event.
	stored  []byte
	subject string
}

// decodeMessage decodes the envelope and the payload before anything is
// written, so that a message that fails is poison as a whole and never
// leaves half its changes in the batch.
func decodeMessage(m events.Message) (decoded, error) {
	e, err := events.Decode(m.Data)
	if err != nil {
		return decoded{}, err
	}
	info, ok := events.Lookup(e.Type)
	if !ok {
		return decoded{}, fmt.Errorf("%w: the projector has no view for type %s", events.ErrMalformedEvent, events.Quote(string(e.Type)))
	}
	kind, key := events.ClassifySubject(m.Subject)
	if kind != info.Subject {
		return decoded{}, fmt.Errorf("%w: %s does not belong on subject %q", events.ErrMalformedEvent, e.Type, m.Subject)
	}
	data := info.New()
	if err := e.DecodeData(data); err != nil {
		return decoded{}, err
	}
	return decoded{seq: m.Seq, event: e, data: data, kind: kind, key: key, stored: m.Data, subject: m.Subject}, nil
}
