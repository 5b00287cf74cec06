package eventlog_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// signed opens a second Log on f's stream that signs with a new key.
func (f *fixture) signed(t testing.TB) (*eventlog.Log, *events.Signer) {
	t.Helper()
	s := testkit.Signer(t)
	l, err := eventlog.Open(testContext(t), f.js, eventlog.Options{Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	return l, s
}

// Every append of a signing log, one by one or pipelined, is stored with a
// signature over its subject and bytes, and every read path returns it; a
// retried append signs alike, so it stays a duplicate.
func TestSignedAppendsCarryTheirSignature(t *testing.T) {
	for name, newF := range map[string]func(testing.TB) *fixture{"direct": newFixture, "ordered": newFixtureWithoutDirect} {
		t.Run(name, func(t *testing.T) {
			f := newF(t)
			ctx := testContext(t)
			l, s := f.signed(t)
			keys := events.NewPublicKeys(s.PublicKey())
			seq, _, err := l.Append(ctx, conv(1), 0, "cmd-1", []byte("one"))
			if err != nil {
				t.Fatal(err)
			}
			if again, dup, err := l.Append(ctx, conv(1), 0, "cmd-1", []byte("one")); err != nil || !dup || again != seq {
				t.Fatalf("retry = %d, dup %v, %v; want a duplicate of %d", again, dup, err, seq)
			}
			res := l.AppendAll(ctx, []eventlog.Entry{
				{Subject: conv(1), ExpectedSeq: seq, MsgID: "close-1", Data: []byte("two")},
				{Subject: conv(2), MsgID: "close-2", Data: []byte("three")},
			})
			for _, r := range res {
				if r.Err != nil {
					t.Fatal(r.Err)
				}
			}
			unsigned := f.mustAppend(t, conv(2), res[1].Seq, "unsigned")

			check := func(how string, m events.Message) {
				t.Helper()
				_, err := keys.Verify(m.Subject, m.Data, m.Signature)
				if m.Seq == unsigned && m.Signature != "" {
					t.Errorf("%s: seq %d of a log without signer has signature %q", how, m.Seq, m.Signature)
				}
				if m.Seq != unsigned && err != nil {
					t.Errorf("%s: seq %d: %v", how, m.Seq, err)
				}
			}
			for _, subject := range []string{conv(1), conv(2)} {
				msgs, err := l.Load(ctx, subject, 0)
				if err != nil || len(msgs) == 0 {
					t.Fatalf("Load %s = %d, %v", subject, len(msgs), err)
				}
				for _, m := range msgs {
					check("Load", m)
				}
			}
			for seq := uint64(1); seq <= unsigned; seq++ {
				m, err := l.Get(ctx, seq)
				if err != nil {
					t.Fatal(err)
				}
				check("Get", m)
			}
			readCtx, cancel := context.WithCancel(ctx)
			err = l.Read(readCtx, 1, 10, func(batch []events.Message) error {
				for _, m := range batch {
					check("Read", m)
					if m.Seq == unsigned {
						cancel()
					}
				}
				return nil
			})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Appends from many goroutines at once are signed in groups; each stored
// signature verifies, and an append retried, alone or in another run of
// AppendAll, is a duplicate of the first although its group, and so its
// header, differs.
func TestGroupSignedAppendsVerifyAndStayDuplicates(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	l, s := f.signed(t)
	keys := events.NewPublicKeys(s.PublicKey())
	const writers, each = 16, 4
	seqs := make([][]uint64, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			var last uint64
			for i := range each {
				id, data := fmt.Sprint(w, "-", i), fmt.Appendf(nil, "event %d of %d", i, w)
				seq, _, err := l.Append(ctx, conv(w), last, id, data)
				again, dup, errAgain := l.Append(ctx, conv(w), last, id, data)
				if err != nil || errAgain != nil || !dup || again != seq {
					t.Errorf("append %s = %d, %v; retry = %d, dup %v, %v", id, seq, err, again, dup, errAgain)
					return
				}
				seqs[w], last = append(seqs[w], seq), seq
			}
		})
	}
	wg.Wait()
	run := make([]eventlog.Entry, writers)
	for w := range run {
		run[w] = eventlog.Entry{Subject: conv(w), ExpectedSeq: seqs[w][each-1], MsgID: fmt.Sprint("run-", w), Data: []byte("closed")}
	}
	first := l.AppendAll(ctx, run)
	retried := l.AppendAll(ctx, run[1:]) // another batch: other headers
	for i, r := range retried {
		if r.Err != nil || !r.Duplicate || r.Seq != first[i+1].Seq {
			t.Fatalf("retry of entry %d = %+v, want a duplicate of %+v", i+1, r, first[i+1])
		}
	}
	for w := range writers {
		msgs, err := l.Load(ctx, conv(w), 0)
		if err != nil || len(msgs) != each+1 {
			t.Fatalf("Load %s = %d messages, %v; want %d", conv(w), len(msgs), err, each+1)
		}
		for _, m := range msgs {
			if _, err := keys.Verify(m.Subject, m.Data, m.Signature); err != nil {
				t.Errorf("seq %d: %v", m.Seq, err)
			}
		}
	}
}
