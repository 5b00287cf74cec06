package eventlog_test

import (
	"testing"
	"time"
)

// LastSeqOn finds the last message of a subject among others, 0 for a
// subject without any, and asks the stream's leader: no direct get, which
// a lagging replica may answer, goes out for it.
func TestLastSeqOnAsksTheLeader(t *testing.T) {
	f := newFixture(t)
	nc := f.srv.Connect(t)
	direct, err := nc.SubscribeSync("$JS.API.DIRECT.GET.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	if seq, err := f.log.LastSeqOn(ctx, conv(1)); seq != 0 || err != nil {
		t.Fatalf("empty subject: %d, %v; want 0, nil", seq, err)
	}
	want := interleave(t, f, 3)
	if seq, err := f.log.LastSeqOn(ctx, conv(1)); seq != want[2].Seq || err != nil {
		t.Fatalf("LastSeqOn(%s) = %d, %v; want %d", conv(1), seq, err, want[2].Seq)
	}
	if m, err := direct.NextMsg(100 * time.Millisecond); err == nil {
		t.Fatalf("a direct get went out: %s %s", m.Subject, m.Data)
	}
}
