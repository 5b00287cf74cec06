package feed_test

import (
	"context"
	"syscall"
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
// the feeds off, the live feeds on (published to a real nats-server nobody
// subscribes to), and the live and durable feeds on (each note also
// stored in its app's stream): the cost per run of each.
func BenchmarkApplyLive(b *testing.B) {
	for _, mode := range []string{"feeds=off", "feeds=on", "feeds=on+durable"} {
		b.Run(mode, func(b *testing.B) {
			o := projector.Options{Dir: b.TempDir(), Logger: testkit.Quiet()}
			var d *feed.Durable
			if mode != "feeds=off" {
				nc := natstest.Start(b).Connect(b)
				o.Feeds = feed.New(nc)
				if mode == "feeds=on+durable" {
					var err error
					d, err = feed.OpenDurable(context.Background(), nc, feed.DurableOptions{Apps: []string{"instagram", "messenger"}, Logger: testkit.Quiet()})
					if err != nil {
						b.Fatal(err)
					}
					o.Feeds = feed.Fanout{o.Feeds, d}
				}
			}
			s, err := projector.Open(o)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			cpu := processCPU()
			benchApply(b, s)
			if d != nil { // the acknowledgements are part of the cost
				if err := d.Wait(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			// the process's CPU, the in-process nats-server's included: what
			// the feeds cost the machine, less noisy than wall time on shared
			// cores
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time the process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
