package eventlog_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// newGroupFixture is a signing, group-committing Log on a fresh SyncAlways
// server, as `serve --sync-always` opens it, with every batch it commits
// recorded.
func newGroupFixture(t testing.TB) (*fixture, *commits) {
	t.Helper()
	srv := natstest.StartSyncAlways(t)
	js := srv.JetStream(t)
	l, err := eventlog.Open(testContext(t), js, eventlog.Options{GroupCommit: true, Signer: testkit.Signer(t)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	c := &commits{}
	eventlog.ObserveCommits(l, c.add)
	return &fixture{srv: srv, js: js, log: l}, c
}

// commits records the batches a Log committed.
type commits struct {
	mu      sync.Mutex
	batches int
	entries int
	// batched holds the sequence of every append committed in a batch.
	batched map[uint64]bool
}

func (c *commits) add(first uint64, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches++
	c.entries += n
	if c.batched == nil {
		c.batched = make(map[uint64]bool)
	}
	for i := range uint64(n) {
		c.batched[first+i] = true
	}
}

// inBatch reports whether seq was in a batch committed before now.
func (c *commits) inBatch(seq uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.batched[seq]
}

// Concurrent appends share batches, so nats-server fsyncs once per batch
// rather than once per append: with 128 appenders, fewer than 3 fsyncs for
// 4 appends. A caller whose append was
// batched is answered only after its batch was acknowledged, which
// nats-server sends after the batch's fsync (an append answered before is
// never found in a batch later; the few published alone are acknowledged
// after their own fsync), and its sequence is where its event is.
func TestGroupCommitSharesBatches(t *testing.T) {
	f, c := newGroupFixture(t)
	const appenders, rounds = 128, 5
	var wg sync.WaitGroup
	var early sync.Map // sequences answered while in no committed batch
	errs := make(chan error, appenders)
	for a := range appenders {
		wg.Go(func() {
			var last uint64
			for r := range rounds {
				seq, _, err := f.log.Append(testContext(t), conv(a), last, fmt.Sprint(a, "-", r), []byte(fmt.Sprint(a, r)))
				if err == nil && !c.inBatch(seq) {
					early.Store(seq, true)
				}
				if err == nil {
					err = f.checkStored(t, seq, conv(a), fmt.Sprint(a, r))
				}
				if err != nil {
					errs <- err
					return
				}
				last = seq
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	early.Range(func(seq, _ any) bool {
		if c.inBatch(seq.(uint64)) {
			t.Errorf("seq %d answered before the batch holding it was committed", seq)
		}
		return true
	})
	// nats-server fsyncs once per batch and once per append published
	// alone.
	total := appenders * rounds
	syncs := c.batches + total - c.entries
	t.Logf("%d appends, %d of them in %d batches: %d fsyncs", total, c.entries, c.batches, syncs)
	if c.batches == 0 || syncs >= total*3/4 {
		t.Fatalf("%d appends, %d of them in %d batches: %d fsyncs; want batches, and fewer than 3/4 fsync per append", total, c.entries, c.batches, syncs)
	}
}

// checkStored reports whether the stream holds data on subject at seq.
func (f *fixture) checkStored(t testing.TB, seq uint64, subject, data string) error {
	m, err := f.log.Get(testContext(t), seq)
	if err != nil {
		return err
	}
	if m.Subject != subject || string(m.Data) != data || m.Signature == "" {
		return fmt.Errorf("seq %d holds %s %q (signed %v); want %s %q, signed", seq, m.Subject, m.Data, m.Signature != "", subject, data)
	}
	return nil
}

// One conflict and one retried command among a round of appends fail the
// round's atomic batch whole; each entry is then settled alone, exactly as
// without group commit: the others are stored, the conflict is refused,
// the retry is a duplicate of what it stored first.
func TestGroupCommitSettlesARefusedBatchOneByOne(t *testing.T) {
	f, c := newGroupFixture(t)
	ctx := testContext(t)
	taken := f.mustAppend(t, conv(0), 0, "first")
	retried, _, err := f.log.Append(ctx, conv(1), 0, "cmd-1", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	entries := []eventlog.Entry{
		{Subject: conv(0), ExpectedSeq: 0, MsgID: "late", Data: []byte("late")},
		{Subject: conv(1), ExpectedSeq: 0, MsgID: "cmd-1", Data: []byte("one")},
	}
	for i := 2; i < 40; i++ {
		entries = append(entries, eventlog.Entry{Subject: conv(i), MsgID: fmt.Sprint("new-", i), Data: []byte(fmt.Sprint(i))})
	}
	results := f.log.AppendAll(ctx, entries)
	if !errors.Is(results[0].Err, eventlog.ErrConflict) {
		t.Errorf("conflicting entry: %+v; want ErrConflict (conv(0) holds seq %d)", results[0], taken)
	}
	if r := results[1]; r.Err != nil || !r.Duplicate || r.Seq != retried {
		t.Errorf("retried entry: %+v; want a duplicate of seq %d", r, retried)
	}
	for i, r := range results[2:] {
		if r.Err != nil || r.Duplicate {
			t.Fatalf("entry %d: %+v", i+2, r)
		}
		if err := f.checkStored(t, r.Seq, conv(i+2), fmt.Sprint(i+2)); err != nil {
			t.Error(err)
		}
	}
	if c.batches != 0 {
		t.Errorf("%d batches committed; want the one refused", c.batches)
	}
}

// A round of appends committed together is one batch, every entry where
// its result says.
func TestGroupCommitAppendAllIsOneBatch(t *testing.T) {
	f, c := newGroupFixture(t)
	var entries []eventlog.Entry
	for i := range 100 {
		entries = append(entries, eventlog.Entry{Subject: conv(i), MsgID: fmt.Sprint("m-", i), Data: []byte(fmt.Sprint(i))})
	}
	for i, r := range f.log.AppendAll(testContext(t), entries) {
		if r.Err != nil {
			t.Fatalf("entry %d: %v", i, r.Err)
		}
		if err := f.checkStored(t, r.Seq, conv(i), fmt.Sprint(i)); err != nil {
			t.Error(err)
		}
	}
	if c.batches != 1 || c.entries != len(entries) {
		t.Fatalf("%d entries in %d batches; want all %d in one", c.entries, c.batches, len(entries))
	}
}

// A stream made without group commit gains allow_atomic when a group
// committing Log opens it, and keeps its history.
func TestGroupCommitAllowsAtomicOnAnExistingStream(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	seq := f.mustAppend(t, conv(1), 0, "before")
	l, err := eventlog.Open(ctx, f.js, eventlog.Options{GroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	info, err := l.Info(ctx)
	if err != nil || !info.Config.AllowAtomicPublish || info.State.Msgs != 1 {
		t.Fatalf("stream after Open with GroupCommit: %+v, %v; want allow_atomic and the 1 event", info, err)
	}
	if _, _, err := l.Append(ctx, conv(1), seq, "after", []byte("after")); err != nil {
		t.Fatal(err)
	}
}

// A partitioned log commits each stream's share of a round as a batch of
// that stream, every entry where its result says.
func TestGroupCommitPartitioned(t *testing.T) {
	srv := natstest.StartSyncAlways(t)
	l, err := eventlog.Open(testContext(t), srv.JetStream(t), eventlog.Options{GroupCommit: true, Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	c := &commits{}
	eventlog.ObserveCommits(l, c.add)
	var entries []eventlog.Entry
	for i := range 200 {
		entries = append(entries, eventlog.Entry{Subject: conv(i), MsgID: fmt.Sprint("m-", i), Data: []byte(fmt.Sprint(i))})
	}
	for i, r := range l.AppendAll(testContext(t), entries) {
		if r.Err != nil {
			t.Fatalf("entry %d: %v", i, r.Err)
		}
		m, err := l.StreamOf(conv(i)).Get(testContext(t), r.Seq)
		if err != nil || m.Subject != conv(i) || string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("entry %d at seq %d: %+v, %v", i, r.Seq, m, err)
		}
	}
	if c.batches != 2 || c.entries != len(entries) {
		t.Fatalf("%d entries in %d batches; want all %d in one batch per partition", c.entries, c.batches, len(entries))
	}
}
