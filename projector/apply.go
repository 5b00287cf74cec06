package projector

import (
	"cmp"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Apply folds a run of log messages, in stream order, into the views: one
// Pebble batch holds every change and meta/checkpoint = the last sequence,
// committed with fsync. Messages at or below the checkpoint are skipped, so
// replaying a run after a restart never applies anything twice. A message
// that does not decode is recorded under poison/<seq>, logged and skipped;
// the checkpoint still passes it, because the log will never hold other
// bytes at that sequence. An error (Pebble I/O) leaves the store as it was.
func (s *Store) Apply(msgs []events.Message) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	release, err := s.acquire()
	if err != nil {
		return err
	}
	defer release()

	from := s.Checkpoint()
	b := s.db.NewIndexedBatch()
	defer b.Close()
	last, err := s.fold(b, from, msgs)
	if err != nil || last == from {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("commit seqs %d..%d: %w", from+1, last, err)
	}
	s.advance(last)
	return nil
}

// fold writes into b the view changes of the messages after seq from, and
// the new checkpoint, which it returns (from itself if nothing was new).
func (s *Store) fold(b *pebble.Batch, from uint64, msgs []events.Message) (uint64, error) {
	t := newTx(b, s.log)
	last := from
	for _, m := range msgs {
		if m.Seq <= last {
			continue
		}
		if err := t.apply(m); err != nil {
			return from, fmt.Errorf("apply seq %d (%s): %w", m.Seq, m.Subject, err)
		}
		last = m.Seq
	}
	if last == from {
		return from, nil
	}
	if err := t.flush(); err != nil {
		return from, fmt.Errorf("apply seqs %d..%d: %w", from+1, last, err)
	}
	return last, t.setUint(checkpointKey(), last)
}

// tx is one Apply in progress. Conversation and account records are cached
// decoded and written back once by flush: a run touches the same few records
// over and over (1000 messages to 100 conversations), and the cache is also
// what lets a later event in the run see an earlier one's change. Every
// other key is written to the indexed batch at once, and read back through
// it, so scans during the run see the run's own writes.
type tx struct {
	b      *pebble.Batch
	log    *slog.Logger
	convs  map[string]*convState
	accts  map[events.Account]*accountRecord
	unread map[unreadRef]uint64
}

// unreadRef names one unread counter: an account in a conversation.
type unreadRef struct {
	account events.Account
	conv    string
}

// convState is a cached conversation record. activity is its last activity
// when loaded: flush moves the inbox entries only if it changed.
type convState struct {
	rec      convRecord
	exists   bool
	activity time.Time
}

func newTx(b *pebble.Batch, log *slog.Logger) *tx {
	return &tx{
		b: b, log: log, convs: map[string]*convState{},
		accts: map[events.Account]*accountRecord{}, unread: map[unreadRef]uint64{},
	}
}

// apply applies one message: its verbatim history, then its view changes.
func (t *tx) apply(m events.Message) error {
	d, err := decodeMessage(m)
	if err != nil {
		return t.poison(m, err)
	}
	if err := t.b.Set(histKey(m.Subject, m.Seq), m.Data, nil); err != nil {
		return err
	}
	switch d.kind {
	case events.SubjectConversation:
		return t.applyConversation(d)
	case events.SubjectAccount:
		return t.applyAccount(d)
	default:
		return t.applyPolicy(d)
	}
}

// poison records an undecodable message and lets the run go on.
func (t *tx) poison(m events.Message, cause error) error {
	t.log.Warn("projector skips a message it cannot decode",
		slog.Uint64("seq", m.Seq), slog.String("subject", m.Subject), slog.String("error", cause.Error()))
	return t.setJSON(poisonKey(m.Seq), poisonRecord{Subject: m.Subject, Error: cause.Error(), Data: m.Data})
}

// skip logs an event that decodes but does not fit the views (a message id
// the conversation never had, say). The log is the truth and is kept in
// hist/; the views just have nothing to change.
func (t *tx) skip(d decoded, why string) {
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

func (t *tx) setUint(k []byte, n uint64) error { return t.b.Set(k, encodeUint(n), nil) }

// conv returns the cached record of conversation id, loading it once.
func (t *tx) conv(id string) (*convState, error) {
	if c, ok := t.convs[id]; ok {
		return c, nil
	}
	c := &convState{}
	found, err := getJSON(t.b, convKey(id), &c.rec)
	if err != nil {
		return nil, err
	}
	c.exists, c.activity = found, c.rec.LastActivity
	t.convs[id] = c
	return c, nil
}

// account returns the cached record of a, creating it with defaults: an
// account becomes known the first time an event names it.
func (t *tx) account(a events.Account) (*accountRecord, error) {
	if r, ok := t.accts[a]; ok {
		return r, nil
	}
	r := newAccountRecord()
	if _, err := getJSON(t.b, acctKey(a), r); err != nil {
		return nil, err
	}
	t.accts[a] = r
	return r, nil
}

// flush writes the cached records back, in key order so that the batch is
// the same for the same events.
func (t *tx) flush() error {
	for _, id := range slices.Sorted(maps.Keys(t.convs)) {
		if err := t.flushConv(id, t.convs[id]); err != nil {
			return err
		}
	}
	for _, a := range slices.Sorted(maps.Keys(t.accts)) {
		if err := t.setJSON(acctKey(a), t.accts[a]); err != nil {
			return err
		}
	}
	refs := slices.SortedFunc(maps.Keys(t.unread), func(x, y unreadRef) int {
		return cmp.Or(cmp.Compare(x.account, y.account), cmp.Compare(x.conv, y.conv))
	})
	for _, r := range refs {
		if err := t.setUint(unreadKey(r.account, r.conv), t.unread[r]); err != nil {
			return err
		}
	}
	return nil
}

// unreadCount returns the cached unread counter of a in conv, loading it
// once. flush writes it back.
func (t *tx) unreadCount(a events.Account, conv string) (uint64, error) {
	ref := unreadRef{a, conv}
	if n, ok := t.unread[ref]; ok {
		return n, nil
	}
	n, _, err := getUint(t.b, unreadKey(a, conv))
	t.unread[ref] = n
	return n, err
}

func (t *tx) flushConv(id string, c *convState) error {
	if !c.exists {
		return nil
	}
	if err := t.setJSON(convKey(id), &c.rec); err != nil {
		return err
	}
	if c.rec.LastActivity.Equal(c.activity) {
		return nil
	}
	inverted := invertTime(c.rec.LastActivity)
	for _, p := range c.rec.Participants {
		if err := t.moveInbox(p, id, inverted); err != nil {
			return err
		}
	}
	return nil
}

// moveInbox puts conv at its new place in a's inbox, deleting the entry at
// the old place found through the pointer.
func (t *tx) moveInbox(a events.Account, conv string, inverted uint64) error {
	ptr := inboxPtrKey(a, conv)
	old, found, err := getUint(t.b, ptr)
	if err != nil {
		return err
	}
	if found {
		if err := t.b.Delete(inboxKey(a, old, conv), nil); err != nil {
			return err
		}
	}
	if err := t.b.Set(inboxKey(a, inverted, conv), nil, nil); err != nil {
		return err
	}
	return t.setUint(ptr, inverted)
}
