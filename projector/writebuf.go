package projector

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector/views"
)

// The write buffer of a run: what a tx holds until flush writes it to the
// Pebble batch (records, own writes, held writes), and the writes
// themselves. Where the records come from (the cache, prefetch) is
// writebuf_records.go.

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
	// err is the first write the batch refused (fail).
	err error
	// due is the run's part of the retention index (retention.go).
	due dueIndex
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

// set writes k = v to the batch, del deletes k. A batch refuses a write
// only once it is committed or too large, so rather than every write
// along the fold returning its error, the first is kept (fail) and flush
// returns it: the batch, which is then never committed, is all that a
// refused write could have spoiled.
func (t *tx) set(k, v []byte) { t.fail(t.b.Set(k, v, nil)) }

func (t *tx) del(k []byte) { t.fail(t.b.Delete(k, nil)) }

// fail keeps err if it is the run's first.
func (t *tx) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// setJSON writes v's JSON at k.
func (t *tx) setJSON(k []byte, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		t.fail(fmt.Errorf("encode %q: %w", k, err))
		return
	}
	t.set(k, b)
}

// setUint writes a counter or sequence at k.
func (t *tx) setUint(k []byte, n uint64) { t.set(k, views.EncodeUint(n)) }

// A tx writes to a plain Pebble batch, which cannot be read, and reads the
// committed views from the DB. Most of what it reads it never writes before
// flush (conversation and account records are held decoded), but an edit,
// an unsend, a reaction or a read receipt reads back messages, message ids
// and read markers that an earlier event of the same run may have written.
// ownWrites holds those. An indexed batch did it before, and keeping its
// skiplist for every key of a run (three per message) cost 10% of a
// catch-up's CPU, for reads that a run of messages never makes. For the
// same reason the messages are only listed as they are written, and put in
// maps when an event first reads one back (index).
type ownWrites struct {
	sent    []sentMessage                // written, not yet in ids and msgs
	ids     map[msgIDRef]uint64          // msgid/: the sequence a message was sent at
	msgs    map[msgRef][]byte            // msg/: a message's record as written
	markers map[readRef]views.ReadMarker // read/
}

// sentMessage is a msg/ record (and, with an id, its msgid/ entry) that
// a tx wrote.
type sentMessage struct {
	c   *convState
	id  string // "" for a changed message, whose msgid/ entry is not new
	seq uint64
	rec []byte
}

type msgIDRef struct{ conv, id string }

type msgRef struct {
	conv string
	seq  uint64
}

type readRef struct {
	conv string
	a    events.Account
}

// newOwnWrites lists the messages of a run of n events.
func newOwnWrites(n int) ownWrites {
	return ownWrites{sent: make([]sentMessage, 0, n)}
}

// index puts the messages written so far in the maps; it is called before
// anything is read back, and once it was, add puts them there at once.
func (o *ownWrites) index() *ownWrites {
	if o.msgs == nil {
		o.ids, o.msgs = map[msgIDRef]uint64{}, map[msgRef][]byte{}
		o.markers = map[readRef]views.ReadMarker{}
	}
	for _, m := range o.sent {
		if m.id != "" {
			o.ids[msgIDRef{m.c.id, m.id}] = m.seq
		}
		if i, found := slices.BinarySearch(m.c.msgs, m.seq); !found {
			m.c.msgs = slices.Insert(m.c.msgs, i, m.seq)
		}
		o.msgs[msgRef{m.c.id, m.seq}] = m.rec
	}
	o.sent = o.sent[:0]
	return o
}

// add lists a written message.
func (o *ownWrites) add(m sentMessage) {
	o.sent = append(o.sent, m)
	if o.msgs != nil {
		o.index()
	}
}

// rewritten reports whether the tx wrote the message of conv sent at seq:
// the committed record is then stale.
func (t *tx) rewritten(conv string, seq uint64) bool {
	_, ok := t.own.msgs[msgRef{conv, seq}]
	return ok
}

// A tx holds what it writes of conversation events under hist/, msg/ and
// msgid/, in the order written, until flush writes it to the batch table
// by table, grouped by conversation in key order. Pebble inserts a batch
// into the memtable's skiplist key by key in batch order, starting each
// search from where the previous insert ended. Written as the events came
// (the hist/, msg/ and msgid/ keys of one conversation, then of another)
// each insert searched the whole memtable: a third of applying a catch-up
// run. Held and grouped, consecutive inserts land next to each other. The
// batch holds the same operations, and those on one key in the same order,
// so the store it leaves is the same.

// The tables a tx holds.
const (
	heldHist = iota
	heldMsg
	heldMsgID
	heldTables
)

// heldWrite is one held write: of the hist/ entry of c's event at seq
// (text is its subject), of the msg/ record of c's message at seq, or of
// msgid/ (text is the message id).
type heldWrite struct {
	c     *convState
	text  string
	seq   uint64
	value []byte
}

// newHeld sizes the held tables for a run of n events.
func newHeld(n int) [heldTables][]heldWrite {
	var h [heldTables][]heldWrite
	for i := range h {
		h[i] = make([]heldWrite, 0, n)
	}
	return h
}

// hold holds w for table.
func (t *tx) hold(table int, w heldWrite) { t.held[table] = append(t.held[table], w) }

// flush writes the held records and counters back, in key order so that
// the batch is the same for the same events, then the feeds' counters and
// the checkpoint, and returns the first write that failed.
func (t *tx) flush(cpKey []byte, last uint64) error {
	ids := slices.Sorted(maps.Keys(t.convs))
	t.flushHeld(ids)
	for _, id := range ids {
		if err := t.flushConv(id, t.convs[id]); err != nil {
			return err
		}
	}
	for _, a := range slices.Sorted(maps.Keys(t.accts)) {
		t.setJSON(views.AcctKey(a), t.accts[a])
	}
	for _, v := range slices.Sorted(maps.Keys(t.closedBy)) {
		t.setUint(views.PolicyClosedKey(v), t.closedBy[v])
	}
	if t.feed != nil {
		t.fail(t.feed.write(t.db, t.b))
	}
	t.setUint(cpKey, last)
	return t.err
}

// flushHeld writes the held entries; ids are the tx's conversations, in
// key order.
func (t *tx) flushHeld(ids []string) {
	for i, id := range ids {
		t.convs[id].ord = i
	}
	for table, ws := range t.held {
		for _, w := range byConv(ws, len(ids)) {
			t.writeHeld(table, w)
		}
	}
}

// writeHeld writes w, held for table.
func (t *tx) writeHeld(table int, w heldWrite) {
	switch table {
	case heldHist:
		t.set(views.HistKey(w.text, w.seq), w.value)
	case heldMsg:
		t.set(views.MsgKey(w.c.id, w.seq), w.value)
	default:
		t.setUint(views.MsgIDKey(w.c.id, w.text), w.seq)
	}
}

// byConv returns ws grouped by conversation, conversations in the order of
// their ord, the writes of each in the order they were made: a counting
// sort, stable, in one pass over ws.
func byConv(ws []heldWrite, convs int) []heldWrite {
	start := make([]int, convs+1)
	for _, w := range ws {
		start[w.c.ord+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	out := make([]heldWrite, len(ws))
	for _, w := range ws {
		out[start[w.c.ord]] = w
		start[w.c.ord]++
	}
	return out
}

// dropUnused forgets the records prefetch loaded for events a run cut
// short leaves to the next batch: flush writes back every record it holds.
func (t *tx) dropUnused() {
	for id, c := range t.convs {
		if !c.used {
			delete(t.convs, id)
		}
	}
}
