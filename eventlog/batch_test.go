package eventlog_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/crosstalk-dev/crosstalk/eventlog"
)

// TestAppendAllIsAppendForEachEntry appends a run with every outcome Append
// has: new subjects, a subject at its current sequence, a stale expected
// sequence (conflict), the retry of a stored append (duplicate), a foreign
// subject; then checks each result and what the stream holds.
func TestAppendAllIsAppendForEachEntry(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	at := f.mustAppend(t, conv(1), 0, "old")
	stored, _, err := f.log.Append(ctx, conv(2), 0, "cmd-2", []byte("two"))
	if err != nil {
		t.Fatal(err)
	}
	entries := []eventlog.Entry{
		{Subject: conv(1), ExpectedSeq: at, MsgID: "close-1", Data: []byte("c1")},
		{Subject: conv(2), ExpectedSeq: 0, MsgID: "cmd-2", Data: []byte("two")},  // a retry: duplicate
		{Subject: conv(3), ExpectedSeq: 7, MsgID: "close-3", Data: []byte("c3")}, // stale: conflict
		{Subject: "elsewhere.x", MsgID: "close-x", Data: []byte("x")},            // refused
	}
	for i := range 100 {
		entries = append(entries, eventlog.Entry{Subject: conv(100 + i), MsgID: fmt.Sprint("new-", i), Data: []byte("n")})
	}
	res := f.log.AppendAll(ctx, entries)
	if len(res) != len(entries) {
		t.Fatalf("%d results for %d entries", len(res), len(entries))
	}
	if r := res[0]; r.Err != nil || r.Duplicate || r.Seq <= stored {
		t.Errorf("append at the current sequence: %+v", r)
	}
	if r := res[1]; r.Err != nil || !r.Duplicate || r.Seq != stored {
		t.Errorf("retry: %+v, want duplicate of seq %d", r, stored)
	}
	if r := res[2]; !errors.Is(r.Err, eventlog.ErrConflict) {
		t.Errorf("stale expected sequence: %+v, want ErrConflict", r)
	}
	if r := res[3]; r.Err == nil {
		t.Errorf("foreign subject: %+v, want an error", r)
	}
	seqs := map[uint64]bool{}
	for i, r := range res[4:] {
		if r.Err != nil || r.Duplicate || seqs[r.Seq] {
			t.Fatalf("new subject %d: %+v", i, r)
		}
		seqs[r.Seq] = true
	}
	if last, _ := f.log.LastSeq(ctx); last != stored+1+100 {
		t.Fatalf("last seq %d, want %d: exactly the new appends stored", last, stored+1+100)
	}
}
