package events_test

import (
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// BenchmarkCodec encodes and decodes a message.sent event with a 64-byte
// text, the stored form of every message: the service encodes it once per
// command, and the projector and every aggregate load decode it.
func BenchmarkCodec(b *testing.B) {
	now := time.Date(2023, 12, 1, 12, 0, 0, 0, time.UTC)
	cmd := events.NewID()
	e, err := events.New(events.MessageSent, events.NewID(), now, cmd, 1, events.MessageSentData{
		MessageID: events.DerivedID(now, cmd+"\x00message"), Sender: "messenger:bob",
		Text: "a message of ordinary length, about sixty-four bytes of text....",
	})
	if err != nil {
		b.Fatal(err)
	}
	e.ID = events.DerivedID(now, cmd)
	e.StreamVersion, e.PrevHash = 42, events.Hash([]byte("the previous event"))
	stored, err := events.Encode(e)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("New", func(b *testing.B) {
		b.ReportAllocs()
		data := e.Payload
		for range b.N {
			if _, err := events.New(events.MessageSent, e.Subject, now, cmd, 1, data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(stored)))
		for range b.N {
			if _, err := events.Encode(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(stored)))
		for range b.N {
			if _, err := events.Decode(stored); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Record", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(stored)))
		for i := range b.N {
			if _, err := events.Record(uint64(i), stored); err != nil {
				b.Fatal(err)
			}
		}
	})
}
