package events

// Payload is the typed data of an event of the history. Every payload type
// of Registry implements it, so that a new type cannot compile into the
// registry without saying which type it is, who acted and which ids it
// carries: the facts the audit timeline and the command reply read from
// any event without knowing its type.
//
// The methods have value receivers, so both a payload (as New keeps it in
// Event.Payload) and a pointer to one (as TypeInfo.New makes to decode
// into) are Payloads.
type Payload interface {
	// EventType is the type whose data this is.
	EventType() Type
	// Actor names who acted: the account the type records as acting (the
	// sender, editor, reader, caller, starter, or the account itself), or,
	// for an event no account decided, why it happened: the closing reason
	// (ClosedByPolicy, ClosedByOptOut) or "operator" for a published policy,
	// which an operator's admin command publishes.
	Actor() string
	// IDs returns the message id and the call id the data carries, "" for
	// each it does not, so a command's reply can name them.
	IDs() (messageID, callID string)
}

// EventType is ConversationStarted.
func (ConversationStartedData) EventType() Type { return ConversationStarted }

// Actor is the account that started the conversation.
func (d ConversationStartedData) Actor() string { return string(d.StartedBy) }

// IDs is empty: the conversation id is the event's subject.
func (ConversationStartedData) IDs() (messageID, callID string) { return "", "" }

// EventType is MessageSent.
func (MessageSentData) EventType() Type { return MessageSent }

// Actor is the sender.
func (d MessageSentData) Actor() string { return string(d.Sender) }

// IDs is the message id.
func (d MessageSentData) IDs() (messageID, callID string) { return d.MessageID, "" }

// EventType is MessageEdited.
func (MessageEditedData) EventType() Type { return MessageEdited }

// Actor is the editor.
func (d MessageEditedData) Actor() string { return string(d.Editor) }

// IDs is the message id.
func (d MessageEditedData) IDs() (messageID, callID string) { return d.MessageID, "" }

// EventType is MessageUnsent.
func (MessageUnsentData) EventType() Type { return MessageUnsent }

// Actor is the account that unsent the message.
func (d MessageUnsentData) Actor() string { return string(d.By) }

// IDs is the message id.
func (d MessageUnsentData) IDs() (messageID, callID string) { return d.MessageID, "" }

// EventType is MessageReacted.
func (MessageReactedData) EventType() Type { return MessageReacted }

// Actor is the account that reacted.
func (d MessageReactedData) Actor() string { return string(d.Account) }

// IDs is the message id.
func (d MessageReactedData) IDs() (messageID, callID string) { return d.MessageID, "" }

// EventType is MessageRead.
func (MessageReadData) EventType() Type { return MessageRead }

// Actor is the reader.
func (d MessageReadData) Actor() string { return string(d.Account) }

// IDs is the message id read up to.
func (d MessageReadData) IDs() (messageID, callID string) { return d.MessageID, "" }

// EventType is CallStarted.
func (CallStartedData) EventType() Type { return CallStarted }

// Actor is the caller.
func (d CallStartedData) Actor() string { return string(d.By) }

// IDs is the call id.
func (d CallStartedData) IDs() (messageID, callID string) { return "", d.CallID }

// EventType is CallEnded.
func (CallEndedData) EventType() Type { return CallEnded }

// Actor is the account that ended the call.
func (d CallEndedData) Actor() string { return string(d.By) }

// IDs is the call id.
func (d CallEndedData) IDs() (messageID, callID string) { return "", d.CallID }

// EventType is ConversationClosed.
func (ConversationClosedData) EventType() Type { return ConversationClosed }

// Actor is the reason: no account closes a conversation, a policy or a
// withdrawn opt-in does.
func (d ConversationClosedData) Actor() string { return d.Reason }

// IDs is empty.
func (ConversationClosedData) IDs() (messageID, callID string) { return "", "" }

// EventType is PresenceChanged.
func (PresenceChangedData) EventType() Type { return PresenceChanged }

// Actor is the account whose presence changed.
func (d PresenceChangedData) Actor() string { return string(d.Account) }

// IDs is empty.
func (PresenceChangedData) IDs() (messageID, callID string) { return "", "" }

// EventType is SettingsChanged.
func (SettingsChangedData) EventType() Type { return SettingsChanged }

// Actor is the account whose settings changed.
func (d SettingsChangedData) Actor() string { return string(d.Account) }

// IDs is empty.
func (SettingsChangedData) IDs() (messageID, callID string) { return "", "" }

// EventType is PolicyPublished.
func (PolicyPublishedData) EventType() Type { return PolicyPublished }

// Actor is "operator": policies are published by an admin command.
func (PolicyPublishedData) Actor() string { return "operator" }

// IDs is empty.
func (PolicyPublishedData) IDs() (messageID, callID string) { return "", "" }

// EventType is AccountErased.
func (AccountErasedData) EventType() Type { return AccountErased }

// Actor is the account that asked for the erasure.
func (d AccountErasedData) Actor() string { return string(d.By) }

// IDs is empty: the account is the event's subject.
func (AccountErasedData) IDs() (messageID, callID string) { return "", "" }

// EventType is ContentExpired.
func (ContentExpiredData) EventType() Type { return ContentExpired }

// Actor is "policy": a retention rule, not an account, expires content.
func (ContentExpiredData) Actor() string { return ClosedByPolicy }

// IDs is empty.
func (ContentExpiredData) IDs() (messageID, callID string) { return "", "" }
