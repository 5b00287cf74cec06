package projector

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/projector/views"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// A store of five streams follows a log of four partitions and its policy
// stream: every stream's checkpoint reaches its last sequence, the views
// hold every conversation, and a restart resumes from each checkpoint.
func TestStoreFollowsEveryPartition(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := eventlog.Open(ctx, natstest.Start(t).JetStream(t), eventlog.Options{Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	f := newFeed(t)
	for i := range 30 {
		id := fmt.Sprintf("00000000-0000-7000-8000-%012d", i)
		f.start(id, alice, bob)
		f.send(id, "m"+id, alice, "hi")
	}
	f.event(events.PolicySubject, "policy", events.PolicyPublished, testkit.CrossAppPolicy(1, "v1", v1Effective, true))
	for _, m := range f.take() {
		if _, _, err := l.Append(ctx, m.Subject, lastOn(ctx, t, l, m.Subject), "", m.Data); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	st := runStreams(ctx, t, dir, l)
	want, err := l.LastSeqs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, seq := range want {
		if seq == 0 {
			t.Errorf("stream %d holds nothing", i)
		}
	}
	if err := st.WaitForAll(ctx, want); err != nil {
		t.Fatalf("views did not reach %v: %v (at %v)", want, err, st.Checkpoints())
	}
	for i := range 30 {
		if v, err := st.Conversation(fmt.Sprintf("00000000-0000-7000-8000-%012d", i)); err != nil || v.Version != 2 {
			t.Errorf("conversation %d: %+v %v", i, v, err)
		}
	}
	if pols, err := st.Policies(); err != nil || len(pols) != 1 {
		t.Errorf("policies %v %v", pols, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(Options{Dir: dir, Logger: testkit.Quiet(), Streams: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Checkpoints(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("checkpoints after reopen %v, want %v", got, want)
	}
	_ = again.Close()
	if _, err := Open(Options{Dir: dir, Logger: testkit.Quiet()}); !errors.Is(err, ErrStreams) {
		t.Errorf("a store of 5 streams opened as one: %v", err)
	}
}

// runStreams opens a store of l's streams in dir and runs it until the
// test ends.
func runStreams(ctx context.Context, t *testing.T, dir string, l *eventlog.Log) *Store {
	t.Helper()
	st, err := Open(Options{Dir: dir, Logger: testkit.Quiet(), Streams: len(l.Streams())})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- st.RunStreams(rctx, l) }()
	t.Cleanup(func() {
		stop()
		<-done
		_ = st.Close()
	})
	return st
}

// lastOn is the last sequence on subject, for an append after it.
func lastOn(ctx context.Context, t *testing.T, l *eventlog.Log, subject string) uint64 {
	t.Helper()
	msgs, err := l.Load(ctx, subject, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) == 0 {
		return 0
	}
	return msgs[len(msgs)-1].Seq
}

// A store built from the single stream is not a store of several.
func TestStoreOfOneStreamRefusesSeveral(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(Options{Dir: dir, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	f := newFeed(t)
	f.start("c1", alice, bob)
	if err := st.Apply(f.take()); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	if _, err := Open(Options{Dir: dir, Logger: testkit.Quiet(), Streams: 5}); !errors.Is(err, ErrStreams) {
		t.Errorf("opened as 5 streams: %v", err)
	}
}

// Issue 23: sequences repeat from one stream to the next, so poison at the
// same sequence of two streams is two records, each naming its stream; a
// store of one stream keeps its poison/<seq> key and names none.
func TestPoisonKeyedPerStream(t *testing.T) {
	st, err := Open(Options{Dir: t.TempDir(), Logger: testkit.Quiet(), Streams: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, stream := range []int{0, 3} {
		bad := events.Message{Seq: 1, Subject: events.ConversationSubject(fmt.Sprint("c", stream)), Data: []byte("{not json")}
		if err := st.ApplyStream(stream, []events.Message{bad}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := st.Poisoned()
	if err != nil || len(list) != 2 || list[0].Stream != "0" || list[1].Stream != "3" || list[0].Seq != 1 || list[1].Seq != 1 ||
		list[1].Subject != events.ConversationSubject("c3") {
		t.Fatalf("poison of two streams at seq 1: %+v %v", list, err)
	}
	one, err := Open(Options{Dir: t.TempDir(), Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	if err := one.Apply([]events.Message{{Seq: 1, Subject: events.ConversationSubject("c"), Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if _, found, err := views.Get(one.db, views.PoisonKey(1)); !found || err != nil {
		t.Errorf("poison of a store of one stream is not under poison/<seq>: %v", err)
	}
	if list, err := one.Poisoned(); err != nil || len(list) != 1 || list[0].Stream != "" {
		t.Errorf("poison of one stream: %+v %v", list, err)
	}
}
