package events

import (
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
)

// Type is a CloudEvents type of crosstalk. Every type carries its schema
// version: a changed schema is a new type plus an upcaster, never a rewrite.
type Type string

// The event types of contract v1. A new type is also registered in
// Registry (registry.go), with a payload that implements Payload.
const (
	ConversationStarted Type = "crosstalk.conversation.started.v1"
	MessageSent         Type = "crosstalk.message.sent.v1"
	MessageEdited       Type = "crosstalk.message.edited.v1"
	MessageUnsent       Type = "crosstalk.message.unsent.v1"
	MessageReacted      Type = "crosstalk.message.reacted.v1"
	MessageRead         Type = "crosstalk.message.read.v1"
	CallStarted         Type = "crosstalk.call.started.v1"
	CallEnded           Type = "crosstalk.call.ended.v1"
	ConversationClosed  Type = "crosstalk.conversation.closed.v1"
	PresenceChanged     Type = "crosstalk.presence.changed.v1"
	SettingsChanged     Type = "crosstalk.settings.changed.v1"
	PolicyPublished     Type = "crosstalk.policy.published.v1"
	// AccountErased records that an account's data keys were destroyed
	// (docs/erasure.md): everything it wrote and sealed can no longer be
	// opened. It is stored on the account's subject.
	AccountErased Type = "crosstalk.account.erased.v1"
	// ContentExpired records that a retention rule erased a conversation's
	// content up to a message index. It is stored on the conversation's
	// subject.
	ContentExpired Type = "crosstalk.content.expired.v1"
	// CommandRejected records a command refused by a 403 decision. It is
	// not part of the history: it lives in the size-limited stream
	// CROSSTALK_AUDIT, so that "who tried to start cross-app chats after
	// the cutoff" has an answer.
	CommandRejected Type = "crosstalk.command.rejected.v1"
)

// ConversationStartedData is the payload of conversation.started.
type ConversationStartedData struct {
	ConversationID string    `json:"conversation_id"`
	StartedBy      Account   `json:"started_by"`
	Participants   []Account `json:"participants"`
	CrossApp       bool      `json:"cross_app"`
}

// MessageSentData is the payload of message.sent. When the service seals
// content (docs/erasure.md), Sealed holds the text sealed (package seal)
// and Text is "".
type MessageSentData struct {
	MessageID string  `json:"message_id"`
	Sender    Account `json:"sender"`
	Text      string  `json:"text"`
	Sealed    string  `json:"sealed,omitempty"`
}

// MessageEditedData is the payload of message.edited; Sealed as for
// MessageSentData.
type MessageEditedData struct {
	MessageID string  `json:"message_id"`
	Editor    Account `json:"editor"`
	Text      string  `json:"text"`
	Sealed    string  `json:"sealed,omitempty"`
}

// MessageUnsentData is the payload of message.unsent.
type MessageUnsentData struct {
	MessageID string  `json:"message_id"`
	By        Account `json:"by"`
}

// MessageReactedData is the payload of message.reacted. An empty Reaction
// (and Sealed) removes the account's reaction; a sealed reaction is in
// Sealed, with Reaction "".
type MessageReactedData struct {
	MessageID string  `json:"message_id"`
	Account   Account `json:"account"`
	Reaction  string  `json:"reaction"`
	Sealed    string  `json:"sealed,omitempty"`
}

// MessageReadData is the payload of message.read: Account has read up to and
// including MessageID.
type MessageReadData struct {
	MessageID string  `json:"message_id"`
	Account   Account `json:"account"`
}

// CallStartedData is the payload of call.started.
type CallStartedData struct {
	CallID string  `json:"call_id"`
	By     Account `json:"by"`
	Media  string  `json:"media"`
}

// CallEndedData is the payload of call.ended.
type CallEndedData struct {
	CallID string  `json:"call_id"`
	By     Account `json:"by"`
}

// Reasons a conversation is closed.
const (
	ClosedByPolicy = "policy"
	ClosedByOptOut = "opt_out"
)

// ConversationClosedData is the payload of conversation.closed.
type ConversationClosedData struct {
	Reason        string `json:"reason"`
	PolicyVersion uint64 `json:"policy_version"`
}

// Presence statuses.
const (
	StatusActive  = "active"
	StatusIdle    = "idle"
	StatusOffline = "offline"
)

// PresenceChangedData is the payload of presence.changed.
type PresenceChangedData struct {
	Account Account `json:"account"`
	Status  string  `json:"status"`
}

// SettingsChangedData is the payload of settings.changed: the account's
// settings after the change.
type SettingsChangedData struct {
	Account            Account `json:"account"`
	ShowActivityStatus bool    `json:"show_activity_status"`
	SendReadReceipts   bool    `json:"send_read_receipts"`
	// InteropOptIn is the account's consent to be reached from apps whose
	// policy link requires opt-in. Absent in events written before it
	// existed, which decode to false, its default: the field is optional,
	// so the schema stays v1.
	InteropOptIn bool `json:"interop_opt_in"`
}

// PolicyPublishedData is the payload of policy.published: the policy itself.
type PolicyPublishedData struct {
	Version     uint64     `json:"version"`
	Name        string     `json:"name"`
	EffectiveAt time.Time  `json:"effective_at"`
	Links       []LinkData `json:"links"`
	// ContentRetentionDays is the retention rule: content sent more than
	// that many days ago is erased (docs/erasure.md); 0, or absent as in
	// every policy published before the rule existed, keeps it forever.
	ContentRetentionDays int `json:"content_retention_days,omitempty"`
}

// LinkData is one directional rule of a policy as it is stored, the same
// rule a policy report shows (api.PolicyLink): one type, so that the two
// cannot drift. Its From and To are app names (App(l.From) to validate).
type LinkData = api.PolicyLink

// AccountErasedData is the payload of account.erased: Account's keys are
// destroyed, by By (the account itself, or an account of its app's backend
// acting for it).
type AccountErasedData struct {
	Account Account `json:"account"`
	By      Account `json:"by"`
}

// ContentExpiredData is the payload of content.expired: a retention rule
// of policy PolicyVersion erased the conversation's content sent before
// Before, every message index up to Through inclusive.
type ContentExpiredData struct {
	Through       uint32    `json:"through"`
	Before        time.Time `json:"before"`
	PolicyVersion uint64    `json:"policy_version"`
}

// CommandRejectedData is the payload of command.rejected.
type CommandRejectedData struct {
	App            App       `json:"app"`
	Action         string    `json:"action"`
	Actor          Account   `json:"actor"`
	CommandID      string    `json:"command_id"`
	ConversationID string    `json:"conversation_id,omitempty"`
	Participants   []Account `json:"participants,omitempty"`
	Code           string    `json:"code"`
	Message        string    `json:"message"`
	PolicyVersion  uint64    `json:"policy_version"`
}
