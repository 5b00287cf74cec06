package events

// TypeInfo is what crosstalk knows about one event type of the history:
// where its events are stored and what their data decodes into. The rest
// (actor, ids) the payload says itself, as a Payload.
type TypeInfo struct {
	// Type is the event type.
	Type Type
	// Subject is the kind of stream subject its events are stored on, and
	// so which aggregate folds them and which view applies them.
	Subject SubjectKind
	// New returns a fresh pointer to the type's payload (a
	// *MessageSentData for MessageSent), to decode Data into.
	New func() Payload
}

// Registry is every event type of the history (stream CROSSTALK), in
// contract order: the one place a new type is added. The tests of each
// package that handles events (the projector, the aggregates, the audit
// timeline, the command reply) iterate it, so a type one of them does not
// handle fails there. CommandRejected is not in it: it is evidence kept in
// CROSSTALK_AUDIT, not history.
var Registry = []TypeInfo{
	{ConversationStarted, SubjectConversation, func() Payload { return new(ConversationStartedData) }},
	{MessageSent, SubjectConversation, func() Payload { return new(MessageSentData) }},
	{MessageEdited, SubjectConversation, func() Payload { return new(MessageEditedData) }},
	{MessageUnsent, SubjectConversation, func() Payload { return new(MessageUnsentData) }},
	{MessageReacted, SubjectConversation, func() Payload { return new(MessageReactedData) }},
	{MessageRead, SubjectConversation, func() Payload { return new(MessageReadData) }},
	{CallStarted, SubjectConversation, func() Payload { return new(CallStartedData) }},
	{CallEnded, SubjectConversation, func() Payload { return new(CallEndedData) }},
	{ConversationClosed, SubjectConversation, func() Payload { return new(ConversationClosedData) }},
	{PresenceChanged, SubjectAccount, func() Payload { return new(PresenceChangedData) }},
	{SettingsChanged, SubjectAccount, func() Payload { return new(SettingsChangedData) }},
	{PolicyPublished, SubjectPolicy, func() Payload { return new(PolicyPublishedData) }},
	{AccountErased, SubjectAccount, func() Payload { return new(AccountErasedData) }},
	{ContentExpired, SubjectConversation, func() Payload { return new(ContentExpiredData) }},
}

// Types lists every event type of the history, in contract order: the
// types of Registry. CommandRejected is the one type outside it.
var Types = typesOf(Registry)

// registered indexes Registry by type: Lookup runs once per event the
// projector applies.
var registered = indexOf(Registry)

// Lookup returns the registry's entry for type t, and false if t is not a
// type of the history (an unknown type, or CommandRejected).
func Lookup(t Type) (TypeInfo, bool) {
	i, ok := registered[t]
	if !ok {
		return TypeInfo{}, false
	}
	return Registry[i], true
}

func typesOf(infos []TypeInfo) []Type {
	ts := make([]Type, len(infos))
	for i, info := range infos {
		ts[i] = info.Type
	}
	return ts
}

func indexOf(infos []TypeInfo) map[Type]int {
	m := make(map[Type]int, len(infos))
	for i, info := range infos {
		m[info.Type] = i
	}
	return m
}
