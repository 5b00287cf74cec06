package projector

import "github.com/crosstalk-dev/crosstalk/projector/views"

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

// flushHeld writes the held entries; ids are the tx's conversations, in
// key order.
func (t *tx) flushHeld(ids []string) error {
	for i, id := range ids {
		t.convs[id].ord = i
	}
	for table, ws := range t.held {
		for _, w := range byConv(ws, len(ids)) {
			if err := t.writeHeld(table, w); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *tx) writeHeld(table int, w heldWrite) error {
	switch table {
	case heldHist:
		return t.b.Set(views.HistKey(w.text, w.seq), w.value, nil)
	case heldMsg:
		return t.b.Set(views.MsgKey(w.c.id, w.seq), w.value, nil)
	default:
		return t.setUint(views.MsgIDKey(w.c.id, w.text), w.seq)
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
