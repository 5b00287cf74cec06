package events_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// A hypothetical v0 of message.sent called the text "body". Decoding its
// stored bytes yields a v1 event; the bytes and their chain hash stay as
// they were.
func TestDecodeUpcastsAndKeepsTheBytes(t *testing.T) {
	const v0 = events.Type("crosstalk.message.sent.v0")
	events.RegisterUpcaster(v0, func(e events.Event) (events.Event, error) {
		var old struct {
			MessageID string         `json:"message_id"`
			Sender    events.Account `json:"sender"`
			Body      string         `json:"body"`
		}
		if err := json.Unmarshal(e.Data, &old); err != nil {
			return events.Event{}, err
		}
		data, err := json.Marshal(events.MessageSentData{MessageID: old.MessageID, Sender: old.Sender, Text: old.Body})
		e.Type, e.Data = events.MessageSent, data
		return e, err
	})
	t.Cleanup(func() { events.UnregisterUpcaster(v0) })

	old, _ := events.New(v0, "conv", time.Unix(0, 0), "c", 1, map[string]string{"message_id": "m", "sender": "instagram:alice", "body": "hi"})
	old.ID = "01890000-0000-7000-8000-000000000000"
	stored, _ := events.Encode(old)
	r, err := events.Record(7, stored)
	if err != nil {
		t.Fatal(err)
	}
	var d events.MessageSentData
	if err := r.Event.DecodeData(&d); err != nil || r.Event.Type != events.MessageSent || d.Text != "hi" {
		t.Fatalf("upcast: %+v %+v %v", r.Event, d, err)
	}
	if r.Hash != events.Hash(stored) {
		t.Fatal("the chain hash is of the stored bytes, not the upcast event")
	}
}

func TestUpcasterCycleIsMalformed(t *testing.T) {
	const a, b = events.Type("crosstalk.x.v0"), events.Type("crosstalk.x.v1")
	events.RegisterUpcaster(a, func(e events.Event) (events.Event, error) { e.Type = b; return e, nil })
	events.RegisterUpcaster(b, func(e events.Event) (events.Event, error) { e.Type = a; return e, nil })
	t.Cleanup(func() { events.UnregisterUpcaster(a); events.UnregisterUpcaster(b) })
	e, _ := events.New(a, "s", time.Unix(0, 0), "c", 0, struct{}{})
	e.ID = "01890000-0000-7000-8000-000000000000"
	stored, _ := events.Encode(e)
	if _, err := events.Decode(stored); !errors.Is(err, events.ErrMalformedEvent) {
		t.Fatalf("want ErrMalformedEvent, got %v", err)
	}
}
