package feed_test

import (
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/feed"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// BenchmarkApplyLive applies runs of 10 message.sent events to 100
// conversations of two, as the projector does following a live log, with
// the live feeds off and on (published to a real nats-server nobody
// subscribes to): the cost per run of the feeds.
func BenchmarkApplyLive(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "feeds=off"
		if on {
			name = "feeds=on"
		}
		b.Run(name, func(b *testing.B) {
			o := projector.Options{Dir: b.TempDir(), Logger: testkit.Quiet()}
			if on {
				nc := natstest.Start(b).Connect(b)
				o.Feeds = feed.New(nc)
			}
			s, err := projector.Open(o)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchApply(b, s)
		})
	}
}

func benchApply(b *testing.B, s *projector.Store) {
	var seq uint64
	now := time.Date(2023, 12, 12, 9, 0, 0, 0, time.UTC)
	msg := func(conv string, typ events.Type, data any) events.Message {
		seq++
		now = now.Add(time.Millisecond)
		e, err := events.New(typ, conv, now, events.NewID(), 0, data)
		if err != nil {
			b.Fatal(err)
		}
		e.ID = events.NewID()
		return events.Message{Seq: seq, Subject: events.ConversationSubject(conv), Data: testkit.Encode(b, e)}
	}
	alice, bob := events.Account("instagram:alice"), events.Account("messenger:bob")
	convs := make([]string, 100)
	var run []events.Message
	for i := range convs {
		convs[i] = events.NewID()
		run = append(run, msg(convs[i], events.ConversationStarted, testkit.Started(convs[i], alice, bob)))
	}
	if err := s.Apply(run); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		run = run[:0]
		for j := 0; j < 10; j++ {
			run = append(run, msg(convs[(i*10+j)%len(convs)], events.MessageSent,
				events.MessageSentData{MessageID: events.NewID(), Sender: alice, Text: "a message of ordinary length, about fifty bytes"}))
		}
		b.StartTimer()
		if err := s.Apply(run); err != nil {
			b.Fatal(err)
		}
	}
}
