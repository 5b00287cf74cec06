package eventlog_test

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/internal/natstest"
)

// TestStreamSubjectTransformStoresLogicalSubject pins the behaviour of
// nats-server that partitioning relies on: a stream capturing
// crosstalk.events.p1.> with the transform to crosstalk.events.> stores the
// logical subject, evaluates Nats-Expected-Last-Subject-Sequence and
// Nats-Msg-Id against it, and answers subject reads by it.
func TestStreamSubjectTransformStoresLogicalSubject(t *testing.T) {
	js := natstest.Start(t).JetStream(t)
	ctx := testContext(t)
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"crosstalk.events.p1.>"},
		SubjectTransform: &jetstream.SubjectTransformConfig{Source: "crosstalk.events.p1.>", Destination: "crosstalk.events.>"},
		AllowDirect:      true})
	if err != nil {
		t.Fatal(err)
	}
	pub := func(seq uint64, id string) (*jetstream.PubAck, error) {
		return js.PublishMsg(ctx, &nats.Msg{Subject: "crosstalk.events.p1.conversation.c1", Data: []byte(id)},
			jetstream.WithExpectLastSequencePerSubject(seq), jetstream.WithMsgID(id))
	}
	if _, err := pub(0, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := pub(0, "b"); err == nil {
		t.Error("expected-last-subject-sequence 0 accepted on a subject holding seq 1")
	}
	if ack, err := pub(1, "a"); err != nil || !ack.Duplicate {
		t.Errorf("retry of msg id a: %+v %v", ack, err)
	}
	if _, err := pub(1, "b"); err != nil {
		t.Fatal(err)
	}
	last, err := st.GetLastMsgForSubject(ctx, "crosstalk.events.conversation.c1")
	if err != nil || last.Sequence != 2 || last.Subject != "crosstalk.events.conversation.c1" {
		t.Fatalf("last for logical subject: %+v %v", last, err)
	}
	if _, err := st.GetLastMsgForSubject(ctx, "crosstalk.events.p1.conversation.c1"); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Errorf("physical subject is stored: %v", err)
	}
	c, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"crosstalk.events.conversation.c1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.FetchNoWait(10)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range b.Messages() {
		n++
		if m.Subject() != "crosstalk.events.conversation.c1" {
			t.Errorf("delivered on %s", m.Subject())
		}
	}
	if n != 2 {
		t.Errorf("filtered consumer got %d messages, want 2", n)
	}
}
