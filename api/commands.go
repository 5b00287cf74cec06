package api

import "encoding/json"

// CommandEnvelope is the part every command body has (contract:
// "Commands"): a command id chosen by the producer, a UUID, so that a retry
// has the effect of one; and the actor, an account ("<app>:<handle>") of the
// subject's app.
type CommandEnvelope struct {
	CommandID string `json:"command_id"`
	Actor     string `json:"actor"`
}

// ConversationCommand is the body of every conversation command: the union
// of their fields. Each action takes only its own (ActionFields); a field of
// another action is refused, so the optional fields are omitted when empty.
type ConversationCommand struct {
	CommandEnvelope
	ConversationID string   `json:"conversation_id,omitempty"`
	Participants   []string `json:"participants,omitempty"` // conversation.start; the actor is added
	MessageID      string   `json:"message_id,omitempty"`
	Text           *string  `json:"text,omitempty"`     // message.send and message.edit: 1..4096 bytes of UTF-8
	Reaction       *string  `json:"reaction,omitempty"` // message.react: "" removes the actor's reaction
	CallID         string   `json:"call_id,omitempty"`
	Media          string   `json:"media,omitempty"` // call.start: "audio" or "video"
}

// ActionFields lists, per conversation action, the fields of a
// ConversationCommand it takes beyond command_id and actor.
var ActionFields = map[string][]string{
	ActionConversationStart: {"participants", "conversation_id"},
	ActionMessageSend:       {"conversation_id", "text", "message_id"},
	ActionMessageEdit:       {"conversation_id", "message_id", "text"},
	ActionMessageUnsend:     {"conversation_id", "message_id"},
	ActionMessageReact:      {"conversation_id", "message_id", "reaction"},
	ActionMessageRead:       {"conversation_id", "message_id"},
	ActionCallStart:         {"conversation_id", "media", "call_id"},
	ActionCallEnd:           {"conversation_id", "call_id"},
}

// AccountCommand is the body of presence.set (Status only), settings.set
// (the settings only; an absent one is unchanged) and account.erase
// (command_id and actor only).
type AccountCommand struct {
	CommandEnvelope
	Status             string `json:"status,omitempty"` // active, idle or offline
	ShowActivityStatus *bool  `json:"show_activity_status,omitempty"`
	SendReadReceipts   *bool  `json:"send_read_receipts,omitempty"`
	InteropOptIn       *bool  `json:"interop_opt_in,omitempty"`
}

// PublishPolicy is the body of crosstalk.admin.policy.publish. Policy is
// the policy document (docs/policy.md) as raw JSON: the server parses and
// validates it.
type PublishPolicy struct {
	CommandID string          `json:"command_id"`
	Policy    json.RawMessage `json:"policy"`
}

// CommandReply is the success reply of a command (contract: "Success
// reply"). MessageID and CallID are set when the command made or named one,
// so a producer that let the server pick the id learns it. Duplicate is set
// when the command id was seen before: the reply is the first one.
// Position is where the event is in the log: a query with it as "after"
// sees the command's effect, on any node.
type CommandReply struct {
	ConversationID string   `json:"conversation_id,omitempty"`
	Account        string   `json:"account,omitempty"`
	MessageID      string   `json:"message_id,omitempty"`
	CallID         string   `json:"call_id,omitempty"`
	EventID        string   `json:"event_id"`
	StreamSeq      uint64   `json:"stream_seq"`
	Position       Position `json:"position"`
	Version        uint64   `json:"version"`
	PolicyVersion  uint64   `json:"policy_version"`
	Duplicate      bool     `json:"duplicate,omitempty"`
}

// PublishReply is the success reply of crosstalk.admin.policy.publish;
// Position is the policy event's, as in CommandReply.
type PublishReply struct {
	EventID   string   `json:"event_id"`
	StreamSeq uint64   `json:"stream_seq"`
	Position  Position `json:"position"`
	Version   uint64   `json:"version"`
	Duplicate bool     `json:"duplicate,omitempty"`
}
