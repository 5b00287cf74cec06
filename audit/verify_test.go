package audit_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
	"github.com/crosstalk-dev/crosstalk/projector"
)

func TestVerifyACleanLog(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	last := f.LastSeq()

	rep := f.Verify(nil)
	if !rep.OK() || rep.Events != last || rep.LastSeq != last || rep.Subjects != 4 || rep.WithViews || rep.ViewsChecked != 0 {
		t.Fatalf("JetStream only: %+v", rep)
	}
	if rep.Breaks == nil {
		t.Fatal("Breaks must be an empty list, not nil, so that JSON shows []")
	}
	rep = f.Verify(f.Project())
	if !rep.OK() || !rep.WithViews || rep.ViewsCheckpoint != last || rep.ViewsChecked != last {
		t.Fatalf("with views: %+v", rep)
	}
}

func TestVerifyAnEmptyLog(t *testing.T) {
	f := historytest.NewFixture(t)
	rep := f.Verify(f.Views())
	if !rep.OK() || rep.Events != 0 || rep.Subjects != 0 || rep.ViewsChecked != 0 {
		t.Fatalf("empty log: %+v", rep)
	}
}

// Events published straight into the stream, bypassing crosstalk, are
// found: each at its own sequence, once, and the chain goes on from them.
func TestVerifyReportsBrokenChains(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	c1, c2 := events.ConversationSubject(historytest.Conv1), events.ConversationSubject(historytest.Conv2)

	forged := f.SendEvent(historytest.Conv1, historytest.Alice, "forged")
	forged.PrevHash = strings.Repeat("0", 64)
	wantHash := f.TipHash(c1)
	prevSeq := f.RawEvent(c1, forged)
	f.Send(historytest.Conv1, historytest.Bob, "chained to the forged one")

	skipped := f.SendEvent(historytest.Conv2, historytest.Carol, "version skips")
	skipped.StreamVersion += 5
	versionSeq := f.RawEvent(c2, skipped)
	f.Send(historytest.Conv2, historytest.Bob, "the next one is counted by position")

	junkSeq := f.Raw(c2, []byte(`{"not": "a crosstalk event"}`))
	f.Send(historytest.Conv2, historytest.Carol, "chained to the junk")

	const conv3 = "0192a000-0000-7000-8000-000000000003"
	c3 := events.ConversationSubject(conv3)
	first := f.Event(c3, conv3, events.ConversationStarted, events.ConversationStartedData{
		ConversationID: conv3, StartedBy: historytest.Alice, Participants: []events.Account{historytest.Alice, historytest.Carol}, CrossApp: true})
	first.PrevHash = "abc"
	firstSeq := f.RawEvent(c3, first)

	want := []audit.Break{
		{Seq: prevSeq, Subject: c1, Kind: audit.BreakPrevHash},
		{Seq: versionSeq, Subject: c2, Kind: audit.BreakStreamVersion},
		{Seq: junkSeq, Subject: c2, Kind: audit.BreakUndecodable},
		{Seq: firstSeq, Subject: c3, Kind: audit.BreakPrevHash},
	}
	rep := f.Verify(nil)
	checkBreaks(t, rep, want)
	if !strings.Contains(rep.Breaks[0].Detail, wantHash) {
		t.Errorf("a prevhash break names the hash it wanted: %q", rep.Breaks[0].Detail)
	}

	// The projector keeps the junk under poison/, not hist/: that is no
	// further break.
	rep = f.Verify(f.Project())
	checkBreaks(t, rep, want)
	if rep.ViewsChecked != f.LastSeq() {
		t.Fatalf("views checked %d, want %d", rep.ViewsChecked, f.LastSeq())
	}
}

// checkBreaks compares the breaks' sequence, subject and kind with want.
func checkBreaks(t *testing.T, rep audit.Report, want []audit.Break) {
	t.Helper()
	if rep.OK() || rep.BreaksTotal != uint64(len(want)) || len(rep.Breaks) != len(want) {
		t.Fatalf("want %d breaks, got %d: %+v", len(want), rep.BreaksTotal, rep.Breaks)
	}
	for i, b := range rep.Breaks {
		if b.Seq != want[i].Seq || b.Subject != want[i].Subject || b.Kind != want[i].Kind || b.Detail == "" {
			t.Errorf("break %d: got %+v, want %+v", i, b, want[i])
		}
	}
}

// The views are built by applying a modified copy of the log: Pebble then
// holds what a tampered read model would, without any test hook.
func TestVerifyReportsTamperedViews(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	msgs := f.Messages()
	last := f.LastSeq()
	hey := msgs[3] // "hey Bob" in historytest.Conv1
	if !bytes.Contains(hey.Data, []byte("hey Bob")) {
		t.Fatalf("fixture changed: seq 4 is %s", hey.Data)
	}
	c2 := events.ConversationSubject(historytest.Conv2)

	t.Run("differs", func(t *testing.T) {
		tampered := clone(msgs)
		tampered[3].Data = bytes.Replace(hey.Data, []byte("hey Bob"), []byte("hey Rob"), 1)
		rep := f.Verify(apply(f, tampered))
		checkBreaks(t, rep, []audit.Break{{Seq: 4, Subject: hey.Subject, Kind: audit.BreakDiffersInViews}})
	})
	t.Run("missing", func(t *testing.T) {
		rep := f.Verify(apply(f, append(clone(msgs[:5]), msgs[6:]...)))
		checkBreaks(t, rep, []audit.Break{{Seq: 6, Subject: msgs[5].Subject, Kind: audit.BreakMissingInViews}})
	})
	t.Run("moved to another subject", func(t *testing.T) {
		tampered := clone(msgs)
		tampered[3].Subject = c2
		rep := f.Verify(apply(f, tampered))
		checkBreaks(t, rep, []audit.Break{
			{Seq: 4, Subject: hey.Subject, Kind: audit.BreakMissingInViews},
			{Seq: 4, Subject: c2, Kind: audit.BreakExtraInViews},
		})
	})
	t.Run("beyond the log", func(t *testing.T) {
		extra := events.Message{Seq: last + 1, Subject: hey.Subject, Data: hey.Data}
		rep := f.Verify(apply(f, append(clone(msgs), extra)))
		checkBreaks(t, rep, []audit.Break{
			{Seq: last + 1, Kind: audit.BreakViewsAhead},
			{Seq: last + 1, Subject: hey.Subject, Kind: audit.BreakExtraInViews},
		})
		if rep.ViewsChecked != last {
			t.Fatalf("views checked %d, want %d", rep.ViewsChecked, last)
		}
	})
	// An extra entry that shares its sequence with a genuine one is found
	// whether it is scanned before or after it.
	for _, before := range []bool{true, false} {
		t.Run("sharing a sequence", func(t *testing.T) {
			views := &extraEntry{Store: apply(f, msgs), subject: c2, seq: 4, data: hey.Data, before: before}
			rep := f.Verify(views)
			checkBreaks(t, rep, []audit.Break{{Seq: 4, Subject: views.subject, Kind: audit.BreakExtraInViews}})
		})
	}
	t.Run("behind the log", func(t *testing.T) {
		rep := f.Verify(apply(f, msgs[:5]))
		if !rep.OK() || rep.ViewsCheckpoint != 5 || rep.ViewsChecked != 5 || rep.Events != last {
			t.Fatalf("views that lag are checked up to their checkpoint: %+v", rep)
		}
	})
}

// apply builds views in a fresh store from msgs.
func apply(f *historytest.Fixture, msgs []events.Message) *projector.Store {
	f.T.Helper()
	s := f.Views()
	if err := s.Apply(msgs); err != nil {
		f.T.Fatal(err)
	}
	return s
}

func clone(msgs []events.Message) []events.Message {
	out := make([]events.Message, len(msgs))
	for i, m := range msgs {
		out[i] = events.Message{Seq: m.Seq, Subject: m.Subject, Data: bytes.Clone(m.Data)}
	}
	return out
}

// extraEntry is a real store whose history scan shows one more hist/ entry,
// before or after the others: Pebble cannot hold two entries for one
// sequence otherwise, since the projector never writes one.
type extraEntry struct {
	*projector.Store
	subject string
	seq     uint64
	data    []byte
	before  bool
}

func (e *extraEntry) History(fn func(subject string, seq uint64, data []byte) error) error {
	if e.before {
		if err := fn(e.subject, e.seq, e.data); err != nil {
			return err
		}
	}
	if err := e.Store.History(fn); err != nil || e.before {
		return err
	}
	return fn(e.subject, e.seq, e.data)
}

func TestVerifyStopsWithItsContext(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := audit.Verify(ctx, f.Log, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify on a cancelled context: %v", err)
	}
	if _, err := audit.Checksum(ctx, f.Log, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Checksum on a cancelled context: %v", err)
	}
}
