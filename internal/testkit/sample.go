package testkit

import (
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// The samples are one event of every type in events.Registry, for the
// tests that check that each place handling events (the projector, the
// aggregates, the audit timeline, the command reply) handles every type. A
// type added to the registry without a sample here fails
// TestEveryRegisteredTypeHasASample.

// The names and ids the samples use: every message sample names
// SampleMessageID and every call sample SampleCallID, so that samples can
// follow one another in one conversation (a message is sent, then read).
const (
	SampleConversation                = "c1"
	SampleSender       events.Account = "alpha:ann"
	SampleOther        events.Account = "beta:bob"
	SampleMessageID                   = "0190a000-0000-7000-8000-000000000001" // a UUID, as a command can only name
	SampleCallID                      = "k1"
)

// SampleTime is when every sample was decided.
var SampleTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

var payloads = map[events.Type]events.Payload{
	events.ConversationStarted: events.ConversationStartedData{
		ConversationID: SampleConversation, StartedBy: SampleSender, Participants: []events.Account{SampleSender, SampleOther}, CrossApp: true},
	events.MessageSent:        events.MessageSentData{MessageID: SampleMessageID, Sender: SampleSender, Text: "hello"},
	events.MessageEdited:      events.MessageEditedData{MessageID: SampleMessageID, Editor: SampleSender, Text: "hello again"},
	events.MessageUnsent:      events.MessageUnsentData{MessageID: SampleMessageID, By: SampleSender},
	events.MessageReacted:     events.MessageReactedData{MessageID: SampleMessageID, Account: SampleOther, Reaction: "+1"},
	events.MessageRead:        events.MessageReadData{MessageID: SampleMessageID, Account: SampleOther},
	events.CallStarted:        events.CallStartedData{CallID: SampleCallID, By: SampleSender, Media: "audio"},
	events.CallEnded:          events.CallEndedData{CallID: SampleCallID, By: SampleOther},
	events.ConversationClosed: events.ConversationClosedData{Reason: events.ClosedByPolicy, PolicyVersion: 2},
	events.PresenceChanged:    events.PresenceChangedData{Account: SampleSender, Status: events.StatusIdle},
	events.SettingsChanged:    events.SettingsChangedData{Account: SampleSender, SendReadReceipts: true, InteropOptIn: true},
	events.AccountErased:      events.AccountErasedData{Account: SampleSender, By: SampleSender},
	events.ContentExpired:     events.ContentExpiredData{Through: 0, Before: SampleTime, PolicyVersion: 2},
	events.PolicyPublished: events.PolicyPublishedData{Version: 2, Name: "sample", EffectiveAt: SampleTime,
		Links: []events.LinkData{{From: string(SampleSender.App()), To: string(SampleOther.App()), Send: true}}},
}

// SamplePayload returns the sample payload of type t, a value as events.New
// keeps it, and false if t has none.
func SamplePayload(t events.Type) (events.Payload, bool) {
	p, ok := payloads[t]
	return p, ok
}

// SampleSubject returns the stream subject and the event subject (the
// aggregate's key) of the samples of kind k.
func SampleSubject(k events.SubjectKind) (stream, key string) {
	switch k {
	case events.SubjectConversation:
		return events.ConversationSubject(SampleConversation), SampleConversation
	case events.SubjectAccount:
		return events.AccountSubject(SampleSender), string(SampleSender)
	case events.SubjectPolicy:
		return events.PolicySubject, "policy"
	}
	return "", ""
}

// SampleEvent returns the sample event of type t as the command path
// decided it: built by events.New, so with its typed Payload, with a
// derived id and stream version 1.
func SampleEvent(t events.Type) (events.Event, error) {
	info, ok := events.Lookup(t)
	if !ok {
		return events.Event{}, fmt.Errorf("testkit: %s is not registered", t)
	}
	data, ok := payloads[t]
	if !ok {
		return events.Event{}, fmt.Errorf("testkit: no sample of %s", t)
	}
	_, key := SampleSubject(info.Subject)
	e, err := events.New(t, key, SampleTime, "cmd-"+string(t), 1, data)
	if err != nil {
		return events.Event{}, err
	}
	e.ID, e.StreamVersion = events.DerivedID(SampleTime, string(t)), 1
	return e, nil
}

// SampleMessage returns the sample event of type t as the log holds it at
// sequence seq: its stored bytes on the stream subject of its kind.
func SampleMessage(t events.Type, seq uint64) (events.Message, error) {
	e, err := SampleEvent(t)
	if err != nil {
		return events.Message{}, err
	}
	b, err := events.Encode(e)
	if err != nil {
		return events.Message{}, err
	}
	info, _ := events.Lookup(t)
	stream, _ := SampleSubject(info.Subject)
	return events.Message{Seq: seq, Subject: stream, Data: b}, nil
}

// SampleRecorded returns the sample event of type t decoded from its stored
// bytes at sequence seq, as an aggregate loads it (without a Payload).
func SampleRecorded(t events.Type, seq uint64) (events.Recorded, error) {
	m, err := SampleMessage(t, seq)
	if err != nil {
		return events.Recorded{}, err
	}
	return events.Record(m.Seq, m.Data)
}

// SampleSetup lists the sample types that must come before a sample of
// info's type for it to fit: a conversation event needs the conversation
// started, and one about the samples' message needs that message sent.
func SampleSetup(info events.TypeInfo) []events.Type {
	switch {
	case info.Subject != events.SubjectConversation || info.Type == events.ConversationStarted:
		return nil
	case info.Type == events.MessageSent:
		return []events.Type{events.ConversationStarted}
	}
	return []events.Type{events.ConversationStarted, events.MessageSent}
}
