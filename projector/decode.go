package projector

import (
	"fmt"

	"github.com/crosstalk-dev/crosstalk/events"
)

// decoded is a log message ready to apply: its envelope, its typed payload,
// and which aggregate it belongs to according to its stream subject.
type decoded struct {
	seq   uint64
	event events.Event
	data  any // a pointer to the events.*Data type of event.Type
	kind  events.SubjectKind
	key   string // conversation id, account, or "" for the policy subject
	hash  string // events.Hash of the stored bytes, for conversation events
}

// payload says, for each event type, which kind of subject it must be on and
// which data type it carries.
type payload struct {
	kind events.SubjectKind
	new  func() any
}

var payloads = map[events.Type]payload{
	events.ConversationStarted: {events.SubjectConversation, func() any { return new(events.ConversationStartedData) }},
	events.MessageSent:         {events.SubjectConversation, func() any { return new(events.MessageSentData) }},
	events.MessageEdited:       {events.SubjectConversation, func() any { return new(events.MessageEditedData) }},
	events.MessageUnsent:       {events.SubjectConversation, func() any { return new(events.MessageUnsentData) }},
	events.MessageReacted:      {events.SubjectConversation, func() any { return new(events.MessageReactedData) }},
	events.MessageRead:         {events.SubjectConversation, func() any { return new(events.MessageReadData) }},
	events.CallStarted:         {events.SubjectConversation, func() any { return new(events.CallStartedData) }},
	events.CallEnded:           {events.SubjectConversation, func() any { return new(events.CallEndedData) }},
	events.ConversationClosed:  {events.SubjectConversation, func() any { return new(events.ConversationClosedData) }},
	events.PresenceChanged:     {events.SubjectAccount, func() any { return new(events.PresenceChangedData) }},
	events.SettingsChanged:     {events.SubjectAccount, func() any { return new(events.SettingsChangedData) }},
	events.PolicyPublished:     {events.SubjectPolicy, func() any { return new(events.PolicyPublishedData) }},
}

// decodeMessage decodes the envelope and the payload before anything is
// written, so that a message that fails is poison as a whole and never
// leaves half its changes in the batch.
func decodeMessage(m events.Message) (decoded, error) {
	e, err := events.Decode(m.Data)
	if err != nil {
		return decoded{}, err
	}
	p, ok := payloads[e.Type]
	if !ok {
		return decoded{}, fmt.Errorf("%w: the projector has no view for type %q", events.ErrMalformedEvent, e.Type)
	}
	kind, key := events.ClassifySubject(m.Subject)
	if kind != p.kind {
		return decoded{}, fmt.Errorf("%w: %s does not belong on subject %q", events.ErrMalformedEvent, e.Type, m.Subject)
	}
	data := p.new()
	if err := e.DecodeData(data); err != nil {
		return decoded{}, err
	}
	d := decoded{seq: m.Seq, event: e, data: data, kind: kind, key: key}
	if kind == events.SubjectConversation {
		d.hash = events.Hash(m.Data) // the closer's prevhash, were this the last event
	}
	return d, nil
}
