package audit_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
)

// chainOf returns the stored bodies of a new conversation of n events,
// each chained to the one before.
func chainOf(t *testing.T, n int) (subject string, bodies [][]byte) {
	t.Helper()
	conv := events.NewID()
	start := time.Date(2020, 10, 1, 12, 0, 0, 0, time.UTC)
	prev := ""
	for i := range n {
		var data any = events.MessageSentData{MessageID: events.NewID(), Sender: historytest.Alice, Text: "hello"}
		typ := events.MessageSent
		if i == 0 {
			typ, data = events.ConversationStarted, testkit.Started(conv, historytest.Alice, historytest.Bob)
		}
		e, err := events.New(typ, conv, start.Add(time.Duration(i)*time.Second), events.NewID(), 1, data)
		if err != nil {
			t.Fatal(err)
		}
		e.ID, e.StreamVersion, e.PrevHash = events.NewID(), uint64(i+1), prev
		body := testkit.Encode(t, e)
		bodies, prev = append(bodies, body), events.Hash(body)
	}
	return events.ConversationSubject(conv), bodies
}

// isBatchHeader reports whether header is of SignBatch's form.
func isBatchHeader(header string) bool { return strings.Count(header, " ") == 3 }

// Appends made concurrently by many goroutines on a real nats-server are
// signed in groups, a run of AppendAll as one batch; audit verify accepts
// every one of them, and still flags a batch header copied onto a forged
// event after it verified the batch's root.
func TestVerifyGroupSignedAppends(t *testing.T) {
	s := testkit.Signer(t)
	f := historytest.NewSignedFixture(t, s)
	const writers, each = 32, 8
	subjects, chains := make([]string, writers), make([][][]byte, writers)
	for w := range writers {
		subjects[w], chains[w] = chainOf(t, each+2)
	}
	tips := make([]uint64, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for _, body := range chains[w][:each] {
				seq, _, err := f.Log.Append(f.Ctx, subjects[w], tips[w], "", body)
				if err != nil {
					t.Error(err)
					return
				}
				tips[w] = seq
			}
		})
	}
	wg.Wait()
	run := make([]eventlog.Entry, writers)
	for w := range writers {
		run[w] = eventlog.Entry{Subject: subjects[w], ExpectedSeq: tips[w], MsgID: "close-" + subjects[w], Data: chains[w][each]}
	}
	for _, r := range f.Log.AppendAll(f.Ctx, run) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	grouped := countGrouped(t, f)
	if grouped < writers {
		t.Fatalf("%d events carry a batch header; want at least the %d of the AppendAll run", grouped, writers)
	}
	t.Logf("%d of %d concurrent appends were signed in a group", grouped-writers, writers*each)

	rep := f.VerifyWith(audit.VerifyOptions{Keys: keysOf(s), SignedFrom: 1})
	if !rep.OK() || rep.Signatures.Verified != writers*(each+1) {
		t.Fatalf("%+v", rep)
	}
	last, err := f.Log.Get(f.Ctx, f.LastSeq())
	if err != nil || !isBatchHeader(last.Signature) {
		t.Fatalf("the last of the run: %+v, %v", last, err)
	}
	forged := f.RawWithHeader(subjects[0], chains[0][each+1], nats.Header{events.SignatureHeader: {last.Signature}})
	rep = f.VerifyWith(audit.VerifyOptions{Keys: keysOf(s), SignedFrom: 1})
	if rep.BreaksTotal != 1 || rep.Breaks[0].Seq != forged || rep.Breaks[0].Kind != audit.BreakSignature {
		t.Fatalf("a batch header copied onto a forged event: %+v", rep.Breaks)
	}
}

// countGrouped counts the stored events that carry a batch header.
func countGrouped(t *testing.T, f *historytest.Fixture) int {
	t.Helper()
	n := 0
	for _, m := range f.Messages() {
		if isBatchHeader(m.Signature) {
			n++
		}
	}
	return n
}
