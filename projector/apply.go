package projector

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/crosstalk-dev/crosstalk/projector/views"

	"github.com/cockroachdb/pebble/v2"
	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/events"
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
// new), with how many of msgs it took: all, unless their feed notes
// filled the run's budget first (feedTx.full).
func (t *tx) fold(from uint64, msgs []events.Message, cpKey []byte) (uint64, int, error) {
	if err := t.prefetch(msgs); err != nil {
		return from, 0, err
	}
	t.feed.coalescePresence(from, msgs)
	last, n := from, len(msgs)
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
			n = i + 1
			t.dropUnused()
			break
		}
	}
	if last == from {
		return from, n, nil
	}
	if err := t.flush(); err != nil {
		return from, 0, fmt.Errorf("apply seqs %d..%d: %w", from+1, last, err)
	}
	if t.feed != nil {
		if err := t.feed.write(t.b); err != nil {
			return from, 0, err
		}
	}
	return last, n, t.setUint(cpKey, last)
}

// tx is one Apply in progress. Conversation and account records are held
// decoded and written back once by flush: a run touches
// the same few records over and over (1000 messages to 100 conversations),
// and holding them is also what lets a later event in the run see an earlier
// one's change. They come from the store's recordCache when it has them,
// from Pebble otherwise. Every other key is written to the batch at once;
// the few that a later event of the run reads back are also held in own
// (see ownWrites), since the batch is not indexed.
type tx struct {
	b     *pebble.Batch // written only
	db    views.Reader  // the committed views, as they were before the tx
	own   ownWrites
	held  [heldTables][]heldWrite
	log   *slog.Logger
	cache *recordCache
	convs map[string]*convState
	accts map[events.Account]*views.AccountRecord
	// closedBy holds, per policy version, the count of conversations it
	// closed, for those the run closed some of (countClosed).
	closedBy map[uint64]uint64
	// applied counts the messages folded, poisoned those of them skipped
	// as poison, for Options.OnApplied.
	applied, poisoned int
	// feed holds the run's feed notes; nil without Options.Feeds. skipped
	// says the event being applied was skipped (skip), so it makes none.
	feed    *feedTx
	skipped bool
	// stream is the stream of a store of several the run is of, -1 in a
	// store of one: it keys poison records.
	stream int
}

// convState is a conversation record held by a tx. stored says the store
// had the record when the tx began, and activity is its last activity then:
// every participant's inbox entry sits at that activity, so flush knows
// which entries to move without reading them.
type convState struct {
	id       string
	rec      views.ConvRecord
	exists   bool
	stored   bool
	activity time.Time
	// last is the stored bytes of the record's LastSeq when an event of
	// the run moved it: flush hashes them into LastHash, once per
	// conversation rather than once per event (a run of 10,000 events
	// to 1000 conversations hashed 10,000 times for 1000 hashes kept).
	last []byte
	// msgs holds, ascending, the sequences of the msg/ records the tx
	// wrote, which are in own rather than in db.
	msgs []uint64
	ord  int // the conversation's place in key order, set by flush
	// used says an event of the run asked for the record; prefetch loads
	// those of the whole run, of which a run cut short (fold) uses some.
	used bool
}

// newTx begins a tx of a run of n events.
func newTx(b *pebble.Batch, db views.Reader, log *slog.Logger, cache *recordCache, n int) *tx {
	return &tx{
		b: b, db: db, own: newOwnWrites(n), held: newHeld(n), log: log, cache: cache, convs: map[string]*convState{},
		accts: map[events.Account]*views.AccountRecord{}, closedBy: map[uint64]uint64{}, stream: -1,
	}
}

// apply applies one message: its verbatim history, then its view changes.
// A conversation's history is held with its messages (see held) and
// written by flush.
func (t *tx) apply(m events.Message) error {
	d, err := decodeMessage(m)
	if err != nil {
		return t.poison(m, err)
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
		return t.applyConversation(d)
	}
	if err := t.b.Set(views.HistKey(m.Subject, m.Seq), m.Data, nil); err != nil {
		return err
	}
	if d.kind == events.SubjectAccount {
		return t.applyAccount(d)
	}
	return t.applyPolicy(d)
}

// poison records an undecodable message and lets the run go on.
func (t *tx) poison(m events.Message, cause error) error {
	t.poisoned++
	t.log.Warn("projector skips a message it cannot decode",
		slog.Uint64("seq", m.Seq), slog.String("subject", m.Subject), slog.String("error", cause.Error()))
	key := views.PoisonKey(m.Seq)
	if t.stream >= 0 {
		key = views.StreamPoisonKey(t.stream, m.Seq)
	}
	return t.setJSON(key, views.PoisonRecord{Subject: m.Subject, Error: cause.Error(), Data: m.Data})
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

func (t *tx) setJSON(k []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", k, err)
	}
	return t.b.Set(k, b, nil)
}

func (t *tx) setUint(k []byte, n uint64) error { return t.b.Set(k, views.EncodeUint(n), nil) }

// prefetch loads the records of the run's conversations that the cache
// does not hold, with one ascending scan instead of a point read each, and
// notes those that do not exist. It runs before the run writes anything.
func (t *tx) prefetch(msgs []events.Message) error {
	var ids []string
	for _, m := range msgs {
		if kind, id := events.ClassifySubject(m.Subject); kind == events.SubjectConversation && !t.cache.convs.Contains(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) < prefetchMin {
		return nil
	}
	err := views.ReadConversations(t.db, ids, func(id string, c *views.ConvRecord) error {
		t.convs[id] = &convState{id: id, rec: *c, exists: true, stored: true, activity: c.LastActivity}
		return nil
	})
	for _, id := range ids {
		if _, ok := t.convs[id]; !ok && err == nil {
			t.convs[id] = &convState{id: id} // not stored (yet): the run may start it
		}
	}
	return err
}

// prefetchMin is the fewest records worth a scan rather than point reads.
const prefetchMin = 8

// conv returns the record of conversation id held by the tx, taking it
// from the cache or Pebble the first time.
func (t *tx) conv(id string) (*convState, error) {
	if c, ok := t.convs[id]; ok {
		c.used = true
		return c, nil
	}
	c := &convState{id: id, used: true}
	if rec, ok := t.cache.conv(id); ok {
		c.rec, c.exists = rec, true
	} else {
		found, err := views.GetJSON(t.db, views.ConvKey(id), &c.rec)
		if err != nil {
			return nil, err
		}
		c.exists = found
	}
	c.stored, c.activity = c.exists, c.rec.LastActivity
	t.convs[id] = c
	return c, nil
}

// account returns the record of a held by the tx, creating it with
// defaults: an account becomes known the first time an event names it.
func (t *tx) account(a events.Account) (*views.AccountRecord, error) {
	if r, ok := t.accts[a]; ok {
		return r, nil
	}
	r, ok := t.cache.account(a)
	if !ok {
		r = views.NewAccountRecord()
		if _, err := views.GetJSON(t.db, views.AcctKey(a), r); err != nil {
			return nil, err
		}
	}
	t.accts[a] = r
	return r, nil
}

// flush writes the held records and counters back, in key order so that
// the batch is the same for the same events.
func (t *tx) flush() error {
	ids := slices.Sorted(maps.Keys(t.convs))
	if err := t.flushHeld(ids); err != nil {
		return err
	}
	for _, id := range ids {
		if err := t.flushConv(id, t.convs[id]); err != nil {
			return err
		}
	}
	for _, a := range slices.Sorted(maps.Keys(t.accts)) {
		if err := t.setJSON(views.AcctKey(a), t.accts[a]); err != nil {
			return err
		}
	}
	for _, v := range slices.Sorted(maps.Keys(t.closedBy)) {
		if err := t.setUint(views.PolicyClosedKey(v), t.closedBy[v]); err != nil {
			return err
		}
	}
	return nil
}

// flushConv writes a conversation's record and each participant's inbox
// item, which holds what an inbox page shows, so that a page is one range
// scan. An item moves (delete, set) when the activity moved.
func (t *tx) flushConv(id string, c *convState) error {
	if !c.exists {
		return nil
	}
	if c.last != nil {
		c.rec.LastHash, c.last = events.Hash(c.last), nil
	}
	rec, err := encodeConvRecord(&c.rec)
	if err != nil {
		return fmt.Errorf("encode conversation %s: %w", id, err)
	}
	if err := t.b.Set(views.ConvKey(id), rec, nil); err != nil {
		return err
	}
	moved := c.stored && !c.rec.LastActivity.Equal(c.activity)
	for _, p := range c.rec.Participants {
		if moved {
			if err := t.b.Delete(views.InboxKey(p, views.InvertTime(c.activity), id), nil); err != nil {
				return err
			}
		}
		item := views.NewInboxItem(id, &c.rec, c.rec.Unread[p])
		v, err := encodeInboxItem(&item)
		if err != nil {
			return fmt.Errorf("encode inbox item %s of %s: %w", id, p, err)
		}
		if err := t.b.Set(views.InboxKey(p, views.InvertTime(c.rec.LastActivity), id), v, nil); err != nil {
			return err
		}
	}
	return nil
}
