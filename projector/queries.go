package projector

import "github.com/crosstalk-dev/crosstalk/projector/views"

// The read functions (Inbox, Messages, Presence, Conversation, Policies,
// ...) are package views', promoted to Store through its embedded
// *views.Queries; these are the names their callers know them by.

// Page is which page of a paged query to read, and how large it may be.
type Page = views.Page

// PolicyView is one published policy version and how many conversations
// it has closed so far.
type PolicyView = views.PolicyView

// Opener opens sealed values when a query answers (views.Opener); nil
// shows what is stored.
type Opener = views.Opener

// ConversationHead is what the policy closer needs to decide and append a
// closing (views.ConversationHead).
type ConversationHead = views.ConversationHead

// Page sizes of Inbox and Messages, the contract's.
const (
	DefaultPageSize = views.DefaultPageSize // a limit of 0 (or less) means this
	MaxPageSize     = views.MaxPageSize     // a larger limit is clamped to this
)

// Errors of the read functions, matched with errors.Is.
var (
	// ErrUnknownAccount reports a query about an account no event has named.
	ErrUnknownAccount = views.ErrUnknownAccount
	// ErrConversationNotFound reports a query about a conversation that
	// was never started.
	ErrConversationNotFound = views.ErrConversationNotFound
	// ErrNotParticipant reports a viewer who does not take part in the
	// conversation it asks about.
	ErrNotParticipant = views.ErrNotParticipant
	// ErrInvalidCursor reports a cursor that no page of this query returned.
	ErrInvalidCursor = views.ErrInvalidCursor
)

// The records the hand-written encoders (encode_records.go) write, by
// the names they and their tests use.
type (
	convRecord        = views.ConvRecord
	inboxItem         = views.InboxItem
	lastMessageRecord = views.LastMessageRecord
)

// newInboxItem is what an account's inbox shows of a conversation.
var newInboxItem = views.NewInboxItem
