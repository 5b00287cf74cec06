package aggregate

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// records plays the store outside the aggregate that keeps what SpillRecords
// hands over.
type records map[string]MessageRecord

func (rs records) keep(c *Conversation) {
	for _, r := range c.SpillRecords() {
		rs[r.ID] = r
	}
	c.ForgetSpill()
}

// recallFor gives c the record a decision of cmd (or a fold of e) wants.
func (rs records) recall(c *Conversation, id string) {
	if r, ok := rs[id]; ok && id != "" {
		c.Recall(r)
	}
}

// convFixture folds a conversation of two accounts through Decide and
// Evolve, as the command side does.
type convFixture struct {
	t   *testing.T
	c   *Conversation
	seq uint64
	now time.Time
	rs  records
}

func newConvFixture(t *testing.T) *convFixture {
	f := &convFixture{t: t, c: NewConversation(events.NewID()), now: defaultNow, rs: records{}}
	f.must(StartConversation{Meta: f.meta("messenger:a"), Participants: []events.Account{"messenger:b"}})
	return f
}

func (f *convFixture) meta(actor events.Account) Meta {
	return Meta{CommandID: events.NewID(), App: actor.App(), Actor: actor}
}

// try decides cmd on f.c after recalling what it wants, and folds its event.
func (f *convFixture) try(cmd Command) (events.Event, error) {
	f.t.Helper()
	f.rs.recall(f.c, f.c.Wanted(cmd))
	f.now = f.now.Add(time.Millisecond)
	e, err := f.c.Decide(cmd, nil, f.now)
	if err != nil {
		return e, err
	}
	f.seq += 3 // other subjects' events between
	r, err := events.Record(f.seq, testkit.Encode(f.t, e))
	if err != nil {
		f.t.Fatal(err)
	}
	f.rs.recall(f.c, f.c.WantedBy(r.Event))
	if err := f.c.Evolve(r); err != nil {
		f.t.Fatal(err)
	}
	f.rs.keep(f.c)
	return e, nil
}

func (f *convFixture) must(cmd Command) events.Event {
	f.t.Helper()
	e, err := f.try(cmd)
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

func (f *convFixture) send(actor events.Account) string {
	e := f.must(SendMessage{Meta: f.meta(actor), Text: "hi"})
	d, _ := events.DataOf[events.MessageSentData](e)
	return d.MessageID
}

// A conversation holds at most MessageMemory messages however many it has
// had, and its decisions on the oldest ones, recalled from their records,
// are those of a conversation that held everything: sender checks, unsent
// messages, read markers, repeated producer ids.
func TestConversationMemoryIsBoundedAndDecidesAsBefore(t *testing.T) {
	f := newConvFixture(t)
	var ids []string
	for i := range 3 * MessageMemory {
		ids = append(ids, f.send([]events.Account{"messenger:a", "messenger:b"}[i%2]))
	}
	if n := len(f.c.messages); n > MessageMemory {
		t.Fatalf("%d messages in memory, want at most %d", n, MessageMemory)
	}
	old, older := ids[0], ids[2] // sent by a, long out of memory
	if _, err := f.try(EditMessage{Meta: f.meta("messenger:b"), MessageID: old, Text: "x"}); !errors.Is(err, ErrNotSender) {
		t.Errorf("b edits a's old message: %v, want ErrNotSender", err)
	}
	f.must(UnsendMessage{Meta: f.meta("messenger:a"), MessageID: old})
	for range MessageMemory { // push the recalled, unsent record out again
		f.send("messenger:a")
	}
	if _, err := f.try(ReactToMessage{Meta: f.meta("messenger:b"), MessageID: old, Reaction: "+1"}); !errors.Is(err, ErrMessageUnsent) {
		t.Errorf("react to an old unsent message: %v, want ErrMessageUnsent", err)
	}
	f.must(ReadMessage{Meta: f.meta("messenger:b"), MessageID: ids[10]})
	if _, err := f.try(ReadMessage{Meta: f.meta("messenger:b"), MessageID: older}); !errors.Is(err, ErrInvalid) {
		t.Errorf("b reads back to an older message: %v, want the read marker's refusal", err)
	}
	if _, err := f.try(SendMessage{Meta: f.meta("messenger:a"), MessageID: ids[5], Text: "again"}); !errors.Is(err, ErrMessageExists) {
		t.Errorf("a producer's message id of an old message, again: %v, want ErrMessageExists", err)
	}
	if _, err := f.try(EditMessage{Meta: f.meta("messenger:a"), MessageID: events.NewID(), Text: "x"}); !errors.Is(err, ErrMessageNotFound) {
		t.Errorf("edit a message that never was: %v, want ErrMessageNotFound", err)
	}
}

// A snapshot restores a state that decides every command as the state it
// was taken from, and is refused while records wait in the spill.
func TestConversationSnapshotRestoresItsDecisions(t *testing.T) {
	f := newConvFixture(t)
	var ids []string
	for i := range MessageMemory + 40 {
		ids = append(ids, f.send([]events.Account{"messenger:a", "messenger:b"}[i%2]))
	}
	f.must(UnsendMessage{Meta: f.meta("messenger:b"), MessageID: ids[len(ids)-1]})
	f.must(ReadMessage{Meta: f.meta("messenger:a"), MessageID: ids[len(ids)-3]})
	f.must(StartCall{Meta: f.meta("messenger:a"), Media: "audio"})
	data, err := f.c.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	back, err := RestoreConversation(data)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := back.Snapshot(); string(again) != string(data) {
		t.Errorf("restored state's snapshot differs:\n%s\n%s", again, data)
	}
	cmds := []Command{
		EditMessage{Meta: f.meta("messenger:a"), MessageID: ids[0], Text: "x"},
		EditMessage{Meta: f.meta("messenger:a"), MessageID: ids[1], Text: "x"},
		ReactToMessage{Meta: f.meta("messenger:a"), MessageID: ids[len(ids)-1], Reaction: "+1"},
		ReadMessage{Meta: f.meta("messenger:a"), MessageID: ids[len(ids)-4]},
		SendMessage{Meta: f.meta("messenger:a"), MessageID: ids[3], Text: "x"},
	}
	for i, cmd := range cmds {
		f.rs.recall(f.c, f.c.Wanted(cmd))
		f.rs.recall(back, back.Wanted(cmd))
		_, want := f.c.Decide(cmd, nil, f.now)
		_, got := back.Decide(cmd, nil, f.now)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("command %d (%T): restored decides %v, the original %v", i, cmd, got, want)
		}
	}
	f.c.Respill(MessageRecord{ID: ids[0], Index: 1})
	if _, err := f.c.Snapshot(); !errors.Is(err, ErrSpillPending) {
		t.Errorf("snapshot with records in the spill: %v, want ErrSpillPending", err)
	}
	if _, err := RestoreConversation([]byte(`{"format":99,"id":"x"}`)); !errors.Is(err, ErrSnapshot) {
		t.Errorf("a snapshot of another format: %v, want ErrSnapshot", err)
	}
}

// A conversation's state holds less than 64 KiB of heap whatever its
// history: measured after 20,000 messages with every command id, message
// and read marker in it, the records kept elsewhere (issue 25's aim for a
// cached conversation).
func TestConversationHeapIsBounded(t *testing.T) {
	f := newConvFixture(t)
	for i := range 20_000 {
		f.send([]events.Account{"messenger:a", "messenger:b"}[i%2])
	}
	c := f.c
	f = nil // the records live outside the aggregate
	held := heapWith(&c)
	if held > 64<<10 {
		t.Errorf("a conversation of 20,000 messages holds %d bytes of heap, want at most 64 KiB", held)
	}
	t.Logf("a conversation of 20,000 messages holds %d bytes", held)
}

// heapWith is the live heap *c holds: measured with it and after dropping
// it, each after a collection.
func heapWith(c **Conversation) int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	with := int64(m.HeapAlloc)
	*c = nil
	runtime.GC()
	runtime.ReadMemStats(&m)
	return with - int64(m.HeapAlloc)
}
