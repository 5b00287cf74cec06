package closer

import (
	"context"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/pipeline"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// Views is what the closer reads of the read model; *projector.Store has
// it. The closer scans only after WaitFor, so what it reads includes every
// event appended before the scan.
type Views interface {
	// WaitFor returns once the views have applied the log up to seq.
	WaitFor(ctx context.Context, seq uint64) error
	// OpenConversations calls fn with each open conversation and its apps.
	OpenConversations(fn func(id string, apps []events.App) error) error
	// ConversationHeads calls fn with the head of each of ids that exists.
	ConversationHeads(ids []string, fn func(projector.ConversationHead) error) error
	// Conversation returns one conversation, for its participants.
	Conversation(id string) (api.ConversationView, error)
	// Inbox returns a page of account's conversations.
	Inbox(account events.Account, limit int, cursor api.Cursor) (api.InboxPage, error)
	// Policies returns each published version with the count it closed.
	Policies() ([]projector.PolicyView, error)
	// Poisoned lists the stream messages the views skipped as poison.
	Poisoned() ([]api.Poisoned, error)
	// PolicyTookEffect publishes the live feeds' visibility notes of
	// policy version v, in force at now, unless it did before.
	PolicyTookEffect(v uint64, now time.Time) (int, error)
	// DueForRetention returns a page of the conversations with messages
	// sent before before that no content.expired has covered yet.
	DueForRetention(before time.Time, limit int) ([]projector.Due, error)
}

// Log is what the closer needs of the event log; *eventlog.Log has it.
type Log interface {
	// LastSeq is the stream's last sequence, which the views must reach
	// before a scan.
	LastSeq(ctx context.Context) (uint64, error)
}

// Appender is the part of the log that the closer writes its closings
// through, with the write pipeline; *eventlog.Log has it. A Log without it
// gets its closings one command at a time.
type Appender = pipeline.Log

// Commands is the service's command path, for a closing the read model
// cannot settle: it loads the aggregate from the log, decides, and appends
// with optimistic concurrency and retries, as for any command.
type Commands interface {
	// Close decides cmd against conversation id and appends the result
	// with msgID. appended is false for a duplicate (closed before by the
	// same causing event). Decide's refusals are returned as they are.
	Close(ctx context.Context, id string, cmd aggregate.Close, msgID string) (appended bool, err error)
	// OptIns reads each account's interoperability opt-in from the command
	// side, the truth (the read model may lag).
	OptIns(ctx context.Context, accounts []events.Account) (map[events.Account]bool, error)
	// Forget drops a cached state of subject: the closer appended to it
	// behind the command path's back, so the state is behind the log.
	Forget(subject string)
	// Expire decides cmd against conversation id and appends the result
	// with msgID, as Close does. It takes the command path, not the
	// views' head: whether an expiry reaches beyond the last one, and
	// stays within the messages sent, is the conversation's state.
	Expire(ctx context.Context, id string, cmd aggregate.ExpireContent, msgID string) (appended bool, err error)
}

// Keys erase content: the retention sweep punctures, in the scope of what
// account wrote in conversation, the key tree's leaves lo to hi
// inclusive (package keyring; idempotent). The service adapts its
// *keyring.Ring to it.
type Keys interface {
	Puncture(ctx context.Context, account, conversation string, lo, hi uint32) error
}

// Policies are the published policies as the command side knows them.
type Policies interface {
	// Refresh catches up with the log, so that a policy published through
	// another instance is seen.
	Refresh(ctx context.Context) error
	// At returns the policy in force at now (nil before any).
	At(now time.Time) *aggregate.Policy
	// EventID returns the id of the event that published version v: the
	// causation of the closings it makes.
	EventID(v uint64) string
}

// Clock tells the closer what time it is, for the policy in force.
type Clock interface {
	Now() time.Time
}
