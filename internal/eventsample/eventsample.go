// Package eventsample builds one sample event of every type in
// events.Registry, for the tests that check that each place handling events
// (the projector, the aggregates, the audit timeline, the command reply)
// handles every type. A type added to the registry without a sample here
// fails TestEveryRegisteredTypeHasASample.
package eventsample

import (
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// The names and ids the samples use: every message sample names MessageID
// and every call sample CallID, so that samples can follow one another in
// one conversation (a message is sent, then read).
const (
	Conversation                = "c1"
	Sender       events.Account = "alpha:ann"
	Other        events.Account = "beta:bob"
	MessageID                   = "m1"
	CallID                      = "k1"
)

// Time is when every sample was decided.
var Time = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

var payloads = map[events.Type]events.Payload{
	events.ConversationStarted: events.ConversationStartedData{
		ConversationID: Conversation, StartedBy: Sender, Participants: []events.Account{Sender, Other}, CrossApp: true},
	events.MessageSent:        events.MessageSentData{MessageID: MessageID, Sender: Sender, Text: "hello"},
	events.MessageEdited:      events.MessageEditedData{MessageID: MessageID, Editor: Sender, Text: "hello again"},
	events.MessageUnsent:      events.MessageUnsentData{MessageID: MessageID, By: Sender},
	events.MessageReacted:     events.MessageReactedData{MessageID: MessageID, Account: Other, Reaction: "+1"},
	events.MessageRead:        events.MessageReadData{MessageID: MessageID, Account: Other},
	events.CallStarted:        events.CallStartedData{CallID: CallID, By: Sender, Media: "audio"},
	events.CallEnded:          events.CallEndedData{CallID: CallID, By: Other},
	events.ConversationClosed: events.ConversationClosedData{Reason: events.ClosedByPolicy, PolicyVersion: 2},
	events.PresenceChanged:    events.PresenceChangedData{Account: Sender, Status: events.StatusIdle},
	events.SettingsChanged:    events.SettingsChangedData{Account: Sender, SendReadReceipts: true, InteropOptIn: true},
	events.PolicyPublished: events.PolicyPublishedData{Version: 2, Name: "sample", EffectiveAt: Time,
		Links: []events.LinkData{{From: Sender.App(), To: Other.App(), Send: true}}},
}

// Payload returns the sample payload of type t, a value as events.New keeps
// it, and false if t has none.
func Payload(t events.Type) (events.Payload, bool) {
	p, ok := payloads[t]
	return p, ok
}

// Subject returns the stream subject and the event subject (the aggregate's
// key) of the samples of kind k.
func Subject(k events.SubjectKind) (stream, key string) {
	switch k {
	case events.SubjectConversation:
		return events.ConversationSubject(Conversation), Conversation
	case events.SubjectAccount:
		return events.AccountSubject(Sender), string(Sender)
	case events.SubjectPolicy:
		return events.PolicySubject, "policy"
	}
	return "", ""
}

// Event returns the sample event of type t as the command path decided it:
// built by events.New, so with its typed Payload, with a derived id and
// stream version 1.
func Event(t events.Type) (events.Event, error) {
	info, ok := events.Lookup(t)
	if !ok {
		return events.Event{}, fmt.Errorf("eventsample: %s is not registered", t)
	}
	data, ok := payloads[t]
	if !ok {
		return events.Event{}, fmt.Errorf("eventsample: no sample of %s", t)
	}
	_, key := Subject(info.Subject)
	e, err := events.New(t, key, Time, "cmd-"+string(t), 1, data)
	if err != nil {
		return events.Event{}, err
	}
	e.ID, e.StreamVersion = events.DerivedID(Time, string(t)), 1
	return e, nil
}

// Message returns the sample event of type t as the log holds it at
// sequence seq: its stored bytes on the stream subject of its kind.
func Message(t events.Type, seq uint64) (events.Message, error) {
	e, err := Event(t)
	if err != nil {
		return events.Message{}, err
	}
	b, err := events.Encode(e)
	if err != nil {
		return events.Message{}, err
	}
	info, _ := events.Lookup(t)
	stream, _ := Subject(info.Subject)
	return events.Message{Seq: seq, Subject: stream, Data: b}, nil
}

// Recorded returns the sample event of type t decoded from its stored
// bytes at sequence seq, as an aggregate loads it (without a Payload).
func Recorded(t events.Type, seq uint64) (events.Recorded, error) {
	m, err := Message(t, seq)
	if err != nil {
		return events.Recorded{}, err
	}
	return events.Record(m.Seq, m.Data)
}
