package api

import "time"

// QueryBase is what every query may carry, and the whole request of the
// policy and status queries. An After (a command reply's Position) makes
// the query wait (up to 2 s) until the read model has applied it, for
// read-your-writes on any node; it fails with CodeNotCaughtUp if it does
// not, and at once with CodeInvalidRequest if the log has no such position
// yet or After is malformed. MinSeq, a stream sequence, does the same in a
// log of one stream; given both, the query waits for the further.
type QueryBase struct {
	MinSeq uint64   `json:"min_seq,omitempty"`
	After  Position `json:"after,omitempty"`
}

// Page sizes of the paged queries (inbox, messages).
const (
	DefaultPageSize = 20  // a limit of 0 means this
	MaxPageSize     = 200 // the largest limit
)

// Cursor is an opaque position in a paged query: a NextCursor of an earlier
// page, or "" for the first page.
type Cursor = string

// InboxQuery is the request of crosstalk.query.inbox.
type InboxQuery struct {
	QueryBase
	Account string `json:"account"`
	Limit   int    `json:"limit,omitempty"`
	Cursor  Cursor `json:"cursor,omitempty"`
}

// InboxPage is one page of an account's inbox, newest activity first: the
// reply of crosstalk.query.inbox.
type InboxPage struct {
	Items      []InboxItem `json:"items"`
	NextCursor Cursor      `json:"next_cursor,omitempty"` // "" on the last page
}

// InboxItem is one conversation in an inbox.
type InboxItem struct {
	ConversationID string       `json:"conversation_id"`
	Participants   []string     `json:"participants"`
	CrossApp       bool         `json:"cross_app"`
	Closed         bool         `json:"closed"`
	ClosedByPolicy uint64       `json:"closed_by_policy"` // 0 unless closed by a policy
	LastActivity   time.Time    `json:"last_activity"`
	LastMessage    *LastMessage `json:"last_message,omitempty"` // newest message not unsent
	Unread         int          `json:"unread"`
}

// LastMessage is the preview of a conversation in an inbox.
type LastMessage struct {
	MessageID string `json:"message_id"`
	Sender    string `json:"sender"`
	Text      string `json:"text"`
	// Erased says why the preview's text is gone ("" Text); nil when it
	// is shown.
	Erased *Erasure `json:"erased,omitempty"`
}

// MessagesQuery is the request of crosstalk.query.messages; only a
// participant may read a conversation's messages.
type MessagesQuery struct {
	QueryBase
	ConversationID string `json:"conversation_id"`
	Viewer         string `json:"viewer"`
	Limit          int    `json:"limit,omitempty"`
	Cursor         Cursor `json:"cursor,omitempty"`
}

// MessagePage is one page of a conversation's messages, oldest first, with
// the read receipts the viewer may see: the reply of
// crosstalk.query.messages.
type MessagePage struct {
	Items        []MessageView     `json:"items"`
	ReadReceipts map[string]string `json:"read_receipts"` // account -> last message id read
	NextCursor   Cursor            `json:"next_cursor,omitempty"`
}

// MessageView is one chat message with its edits, unsend and reactions
// folded in. An unsent message is a tombstone: Unsent is true, Text is
// empty and Erased says who unsent it and when. An erased message (its
// sender's account erased, a retention rule, its key gone) has Text ""
// and Erased set; an erased reaction is left out of Reactions. (A message
// of the log is an events.Message.)
type MessageView struct {
	MessageID string            `json:"message_id"`
	Sender    string            `json:"sender"`
	Text      string            `json:"text"`
	SentAt    time.Time         `json:"sent_at"`
	Edited    bool              `json:"edited"`
	Unsent    bool              `json:"unsent"`
	Reactions map[string]string `json:"reactions"` // account -> reaction
	Erased    *Erasure          `json:"erased,omitempty"`
}

// The reasons of an Erasure.
const (
	ErasedAccount   = "account_erased" // the sender's account was erased
	ErasedUnsent    = "unsent"         // the sender unsent the message
	ErasedRetention = "retention"      // a retention rule of the policy expired it
	ErasedKey       = "key_erased"     // its key no longer opens it, and no event says why
)

// Erasure says why an item's content is gone: when, by whom (an account,
// the app backend or the admin that asked; "" for a retention rule or an
// unknown cause), the reason (ErasedAccount, ...) and, for a retention
// rule, the version of the policy that set it.
type Erasure struct {
	At            time.Time `json:"at"`
	By            string    `json:"by"`
	Reason        string    `json:"reason"`
	PolicyVersion uint64    `json:"policy_version,omitempty"`
}

// PresenceQuery is the request of crosstalk.query.presence: Account's
// activity status as Viewer may see it.
type PresenceQuery struct {
	QueryBase
	Viewer  string `json:"viewer,omitempty"` // an end user may leave it out: it is answered as itself
	Account string `json:"account"`
}

// PresenceView is what a viewer may see of an account's activity status:
// the reply of crosstalk.query.presence.
type PresenceView struct {
	Visible      bool       `json:"visible"`
	Status       string     `json:"status,omitempty"`         // set only when visible
	LastActiveAt *time.Time `json:"last_active_at,omitempty"` // set when visible and ever active
}

// ConversationQuery is the request of crosstalk.query.conversation.
type ConversationQuery struct {
	QueryBase
	ConversationID string `json:"conversation_id"`
}

// ConversationView is a conversation's state, without its messages: the
// reply of crosstalk.query.conversation.
type ConversationView struct {
	ConversationID string   `json:"conversation_id"`
	Participants   []string `json:"participants"`
	CrossApp       bool     `json:"cross_app"`
	Closed         bool     `json:"closed"`
	ClosedByPolicy uint64   `json:"closed_by_policy"`
	CloseReason    string   `json:"close_reason,omitempty"` // "policy" or "opt_out" when closed
	Version        uint64   `json:"version"`                // events on the conversation's subject
}

// PolicyQuery is the request of crosstalk.query.policy. Without Version
// it pages through every published version, without links; with Version it
// reports that version alone, and with Links its links too, paged. Limit
// (default and most: MaxPageSize) and Cursor page whichever is listed.
type PolicyQuery struct {
	QueryBase
	Version uint64 `json:"version,omitempty"`
	Links   bool   `json:"links,omitempty"`
	Limit   int    `json:"limit,omitempty"`
	Cursor  Cursor `json:"cursor,omitempty"`
}

// PolicyReport is the reply of crosstalk.query.policy: published policy
// versions and how far the closer got with each. NextCursor continues the
// versions, or the links of the one version asked for; "" on the last page.
type PolicyReport struct {
	Current    uint64         `json:"current"` // the version in force, 0 before any
	Versions   []PolicyStatus `json:"versions"`
	NextCursor Cursor         `json:"next_cursor,omitempty"`
}

// PolicyStatus is one version in a PolicyReport.
type PolicyStatus struct {
	Version     uint64    `json:"version"`
	Name        string    `json:"name"`
	EffectiveAt time.Time `json:"effective_at"`
	Effective   bool      `json:"effective"` // effective_at is not after the server clock
	InForce     bool      `json:"in_force"`  // the highest effective version
	Closed      int       `json:"closed"`    // conversations it closed, as the read model counts them
	Affected    int       `json:"affected"`  // conversations the closer found to close
	Applied     bool      `json:"applied"`   // the closer is done with it
	LinkCount   int       `json:"link_count"`
	// Links are reported only when asked for, one version at a time: a
	// report of every version's links could outgrow a NATS message.
	Links []PolicyLink `json:"links,omitempty"`
}

// PolicyLink is one directional rule of a policy: what accounts of app From
// may do with accounts of app To.
type PolicyLink struct {
	From              string `json:"from"`
	To                string `json:"to"`
	StartConversation bool   `json:"start_conversation"`
	Send              bool   `json:"send"`
	Call              bool   `json:"call"`
	SeeActivityStatus bool   `json:"see_activity_status"`
	SeeReadReceipts   bool   `json:"see_read_receipts"`
	// RequiresOptIn lets an account of From reach an account of To only if
	// the To account has set interop_opt_in.
	RequiresOptIn bool `json:"requires_opt_in,omitempty"`
	// MaxParticipants bounds conversations that span the link; 0 means no
	// bound, 2 one-to-one only.
	MaxParticipants int `json:"max_participants,omitempty"`
}

// Status is the reply of crosstalk.query.status: how far the read model is
// behind the log, and what it skipped.
//
// On a partitioned log (serve --partitions N > 1) StreamLastSeq,
// ViewsCheckpoint, Lag and StartSeq are sums over its streams, and
// Streams gives each stream's, in the order P0 … P{N-1}, POLICY.
type Status struct {
	StreamLastSeq       uint64     `json:"stream_last_seq"`
	ViewsCheckpoint     uint64     `json:"views_checkpoint"`
	Lag                 uint64     `json:"lag"`
	Poisoned            []Poisoned `json:"poisoned"`
	CachedConversations int        `json:"cached_conversations"`
	CachedAccounts      int        `json:"cached_accounts"`
	InFlight            int        `json:"in_flight"`
	PolicyVersion       uint64     `json:"policy_version"`
	// PoisonedCommands counts the poisoned messages the command side has
	// skipped since the service started; Poisoned lists the first 1000.
	PoisonedCommands int `json:"poisoned_commands"`
	// StreamProblem names what is wrong with the stream's configuration
	// while appends are refused for it (stream_misconfigured); empty when
	// the configuration is as crosstalk requires.
	StreamProblem string `json:"stream_problem,omitempty"`
	// StartSeq is the stream's last sequence when the service started;
	// CaughtUpAtStart is set once the read model has applied it. Until then
	// queries wait (bounded) or answer not_caught_up, so that no answer
	// after a restart is older than one given before it.
	StartSeq        uint64 `json:"start_seq"`
	CaughtUpAtStart bool   `json:"caught_up_at_start"`
	// Rebuild is the progress of the latest online rebuild of the read
	// model (crosstalk.admin.views.rebuild) since the service started;
	// absent when there was none.
	Rebuild *RebuildProgress `json:"rebuild,omitempty"`
	// Node and Roles name the node that answered (serve --node-id,
	// --roles); Views says whether it keeps a read model (a node without
	// one reports ViewsCheckpoint, Lag and the views' Poisoned as 0 and
	// empty).
	Node  string   `json:"node"`
	Roles []string `json:"roles"`
	Views bool     `json:"views"`
	// Streams is each stream of a partitioned log; absent on the single
	// stream CROSSTALK.
	Streams []StreamStatus `json:"streams,omitempty"`
	// Nodes are the nodes of the service that answered $SRV.INFO.crosstalk
	// within a quarter of a second, this one included, by node id.
	Nodes []NodeInfo `json:"nodes"`
	// Leases are the singletons' leases (closer, intake) by name: who holds
	// each; a lease nobody holds is absent.
	Leases map[string]LeaseInfo `json:"leases"`
}

// Poisoned is a stream message that a side of the service could not use and
// skipped: the read model could not apply it (Side "views"), or the command
// side could not fold it into its aggregate (Side "commands").
type Poisoned struct {
	Seq     uint64 `json:"seq"`
	Subject string `json:"subject"`
	Error   string `json:"error"`
	Side    string `json:"side"`
	// Stream is, on a partitioned log, the index of the stream Seq is a
	// sequence of, in the log's order (0 … N-1 for CROSSTALK_P0 …, N for
	// CROSSTALK_POLICY), in decimal; absent on the single stream.
	Stream string `json:"stream,omitempty"`
}

// The sides of Poisoned.
const (
	SideViews    = "views"
	SideCommands = "commands"
)

// StreamStatus is one stream of a partitioned log in Status: its last
// sequence, the read model's checkpoint in it, and the difference.
type StreamStatus struct {
	Name       string `json:"name"`
	LastSeq    uint64 `json:"last_seq"`
	Checkpoint uint64 `json:"checkpoint"`
	Lag        uint64 `json:"lag"`
}
