package projector

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/projector/views"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// BenchmarkApply applies runs of 1000 message.sent events spread over 100
// conversations of two participants, each run one fsynced batch: the
// projector's steady state under load.
func BenchmarkApply(b *testing.B) {
	s, f := openStore(b), newFeed(b)
	convs := make([]string, 100)
	for i := range convs {
		convs[i] = events.NewID()
		f.start(convs[i], alice, bob)
	}
	mustApply(b, s, f.take())
	senders := []events.Account{alice, bob}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for j := 0; j < 1000; j++ {
			f.send(convs[j%len(convs)], events.NewID(), senders[j%2], "a message of ordinary length, about fifty bytes")
		}
		run := f.take()
		b.StartTimer()
		if err := s.Apply(run); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkInbox reads the first page of an inbox of 100 conversations.
func BenchmarkInbox(b *testing.B) {
	s, f := openStore(b), newFeed(b)
	for i := 0; i < 100; i++ {
		id := events.NewID()
		f.start(id, alice, bob)
		f.send(id, events.NewID(), bob, "hello")
	}
	mustApply(b, s, f.take())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Inbox(alice, DefaultPageSize, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInboxKey encodes one inbox key, done twice per participant each
// time a conversation's activity moves.
func BenchmarkInboxKey(b *testing.B) {
	conv := events.NewID()
	at := time.Date(2023, 12, 13, 10, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = views.InboxKey(alice, views.InvertTime(at), conv)
	}
}

// BenchmarkApplyLive applies runs of 10 message.sent events, the size of
// the batches the projector sees when it follows a live log, with and
// without an fsync per batch (Options.SyncEveryBatch).
func BenchmarkApplyLive(b *testing.B) {
	for _, sync := range []bool{false, true} {
		b.Run(fmt.Sprintf("sync=%v", sync), func(b *testing.B) {
			s := openStoreWith(b, Options{Dir: b.TempDir(), SyncEveryBatch: sync, Logger: testkit.Quiet()})
			f := newFeed(b)
			convs := make([]string, 100)
			for i := range convs {
				convs[i] = events.NewID()
				f.start(convs[i], alice, bob)
			}
			mustApply(b, s, f.take())
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				for j := range 10 {
					f.send(convs[(i*10+j)%len(convs)], events.NewID(), alice, "a message of ordinary length, about fifty bytes")
				}
				run := f.take()
				b.StartTimer()
				mustApply(b, s, run)
			}
			b.ReportMetric(float64(b.N)*10/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkApplyClose applies runs of 1000 conversation.closed events by
// policy version 2, each to a different conversation: the projector's part
// of policy_close.
func BenchmarkApplyClose(b *testing.B) {
	s, f := openStore(b), newFeed(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		convs := make([]string, 1000)
		for j := range convs {
			convs[j] = events.NewID()
			f.start(convs[j], alice, bob)
		}
		mustApply(b, s, f.take())
		for _, id := range convs {
			f.closeByPolicy(id, 2)
		}
		run := f.take()
		b.StartTimer()
		mustApply(b, s, run)
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkConversationHeads reads the heads of 20,000 conversations,
// each with a message (so its record has a preview and unread counts), in
// runs of 1024 ids as the closer does: one op is one run, ns/head one
// head.
func BenchmarkConversationHeads(b *testing.B) {
	s, f := openStore(b), newFeed(b)
	ids := make([]string, 20_000)
	for i := range ids {
		ids[i] = events.NewID()
		f.start(ids[i], alice, bob)
		f.send(ids[i], events.NewID(), alice, "a message of ordinary length, about fifty bytes")
	}
	mustApply(b, s, f.take())
	slices.Sort(ids) // as OpenConversations lists them
	b.ReportAllocs()
	var heads int
	for i := 0; b.Loop(); i += 1024 {
		run := ids[i%len(ids):][:min(1024, len(ids)-i%len(ids))]
		err := s.ConversationHeads(run, func(h ConversationHead) error {
			heads++
			if h.LastSeq == 0 {
				return fmt.Errorf("conversation %s has no head", h.ConversationID)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(heads), "ns/head")
}
