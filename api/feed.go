package api

import (
	"strings"
	"time"
)

// Live feeds (docs/feeds.md): after the read model commits a run of events,
// crosstalk publishes each account's changes, as that account may see them,
// with core NATS on FeedSubject(account). Delivery is at most once and in
// order per account; a client detects a gap by Notification.N and resyncs
// with queries that carry min_seq = the last Seq it saw.
const (
	// FeedPrefix starts a feed subject: crosstalk.feed.<app>.<handle>.
	FeedPrefix = "crosstalk.feed."
)

// FeedSubject is the feed subject of account "<app>:<handle>":
// crosstalk.feed.<app>.<handle>. An app and a handle are single subject
// tokens by the contract's name rules (no '.', '*', '>' or whitespace), so
// nothing needs escaping.
func FeedSubject(account string) string {
	return FeedPrefix + strings.Replace(account, ":", ".", 1)
}

// Kinds of Notification.
const (
	NoteMessageSent         = "message.sent"
	NoteMessageEdited       = "message.edited"
	NoteMessageUnsent       = "message.unsent"
	NoteMessageReacted      = "message.reacted"
	NoteMessageRead         = "message.read"
	NoteConversationStarted = "conversation.started"
	NoteConversationClosed  = "conversation.closed"
	NoteCallStarted         = "call.started"
	NoteCallEnded           = "call.ended"
	NotePresenceChanged     = "presence.changed"
	NoteVisibilityChanged   = "visibility.changed"
)

// NotificationKinds lists every Notification kind.
var NotificationKinds = []string{NoteMessageSent, NoteMessageEdited, NoteMessageUnsent,
	NoteMessageReacted, NoteMessageRead, NoteConversationStarted, NoteConversationClosed,
	NoteCallStarted, NoteCallEnded, NotePresenceChanged, NoteVisibilityChanged}

// Notification is one change as one account (the owner of the feed) sees
// it. Seq is the stream sequence of the event it came from (for
// visibility.changed, which no event causes, the last sequence the views
// had applied when the policy took effect); N counts the feed's
// notifications, 1, 2, 3, …, so a jump in N is a lost notification. The
// other fields are set as the kind needs them:
//
//   - message.*: ConversationID, MessageID, Account (the sender, editor,
//     reactor or reader); Text on message.sent and message.edited (what
//     the messages query shows the same viewer); Reaction on
//     message.reacted ("" removes it). message.read only where the viewer
//     may see the reader's read receipts.
//   - conversation.started: ConversationID, Account (who started it),
//     Participants, CrossApp.
//   - conversation.closed: ConversationID, Reason, PolicyVersion.
//   - call.*: ConversationID, CallID, Account; Media on call.started.
//   - presence.changed: Account, Status; only to conversation partners
//     allowed to see Account's activity status.
//   - visibility.changed: Account, ActivityStatus, ReadReceipts,
//     PolicyVersion: the policy that took effect now hides (false) or
//     reveals (true) these of Account from the viewer.
type Notification struct {
	Seq            uint64    `json:"seq"`
	N              uint64    `json:"n"`
	Kind           string    `json:"kind"`
	ConversationID string    `json:"conversation_id,omitempty"`
	Account        string    `json:"account,omitempty"`
	At             time.Time `json:"at"`
	MessageID      string    `json:"message_id,omitempty"`
	Text           string    `json:"text,omitempty"`
	Reaction       string    `json:"reaction,omitempty"`
	Participants   []string  `json:"participants,omitempty"`
	CrossApp       bool      `json:"cross_app,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	PolicyVersion  uint64    `json:"policy_version,omitempty"`
	CallID         string    `json:"call_id,omitempty"`
	Media          string    `json:"media,omitempty"`
	Status         string    `json:"status,omitempty"`
	ActivityStatus *bool     `json:"activity_status,omitempty"`
	ReadReceipts   *bool     `json:"read_receipts,omitempty"`
	// Erased marks a message.sent, message.edited or message.reacted
	// whose sealed text or reaction did not open: published without it.
	Erased *Erasure `json:"erased,omitempty"`
}
