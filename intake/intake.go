// Package intake is crosstalk's durable intake (docs/intake.md): the
// streams CROSSTALK_INTAKE_<app>, one per app, that producers publish
// commands to and move on, the durable pull consumers that decide them in
// batches, round robin between the apps, through the
// service's command path, and the bucket CROSSTALK_OUTCOMES that keeps each
// command's outcome for the intake window. It knows JetStream, not Pebble:
// what a command does is the Decider's business.
package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Names of the intake's JetStream resources.
const (
	// StreamPrefix prefixes the name of each app's intake stream
	// (AppStream): work-queue retention, file storage, a duplicate window
	// of Options.Window, limits of Options.AppLimit and AppMaxBytes.
	StreamPrefix = "CROSSTALK_INTAKE_"
	// LegacyStreamName is the single intake stream of before the streams
	// per app, over crosstalk.intake.>: Open retires it (RetiredSubjects)
	// and the consumer drains and deletes it.
	LegacyStreamName = "CROSSTALK_INTAKE"
	// RetiredSubjects are the subjects LegacyStreamName is given while it
	// drains: none an app publishes to, so that it overlaps no app's
	// stream and nothing new lands in it. Its messages keep their own.
	RetiredSubjects = "crosstalk.intake-retired.>"
	// ConsumerName is the durable pull consumer of each intake stream.
	ConsumerName = "crosstalk-intake"
	// OutcomesBucket is the KV bucket of outcomes, keyed by command id,
	// each kept for Options.Window.
	OutcomesBucket = "CROSSTALK_OUTCOMES"
)

// ErrAppName reports an app in Options.Apps that is no valid app name
// ([a-z][a-z0-9-]{1,31}): it can name no stream.
var ErrAppName = errors.New("intake: not a valid app name")

// AppStream is the name of app's intake stream, StreamPrefix and the app;
// app must be a valid app name (CheckApp).
func AppStream(app string) string { return StreamPrefix + app }

// AppSubjects are what app's intake stream captures:
// crosstalk.intake.<app>.<action>, and the bare crosstalk.intake.<app>
// (a bad message, but one that must get its outcome).
func AppSubjects(app string) []string {
	return []string{api.IntakePrefix + app, api.IntakeSubject(app, ">")}
}

// CheckApp returns an error wrapping ErrAppName unless app is a valid app
// name.
func CheckApp(app string) error {
	if err := events.App(app).Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrAppName, err)
	}
	return nil
}

// The consumer's fixed settings.
const (
	// AckWait is how long a fetched message may stay unacknowledged
	// before JetStream delivers it again.
	AckWait = 30 * time.Second
	// MaxAckPending bounds the messages fetched and not yet acknowledged.
	MaxAckPending = 8192
)

// Defaults of Options.
const (
	// DefaultWindow is the default intake window: the stream's duplicate
	// window and how long an outcome stays queryable.
	DefaultWindow = 10 * time.Minute
	// DefaultBatch is how many messages one fetch takes at most.
	DefaultBatch = 256
	// DefaultWorkers bounds the commands of one wave: as many as a
	// batch, so that a batch with a command for each of 256 aggregates
	// is decided and appended at once.
	DefaultWorkers = DefaultBatch
	// DefaultAppLimit bounds the messages waiting in one app's intake
	// stream: its backlog.
	DefaultAppLimit = 100_000
	// DefaultAppMaxBytes bounds the bytes one app's intake stream holds:
	// the disk it shares with the event log keeps its room.
	DefaultAppMaxBytes = 1 << 30
	// DefaultRetryDelay is how long a command refused for a retryable
	// reason (the log unavailable) waits before its next delivery.
	DefaultRetryDelay = time.Second
)

// Options tune the intake. The zero value is usable: every field has a
// documented default.
type Options struct {
	// Window is the stream's duplicate window and the outcomes' time to
	// live. Default: DefaultWindow.
	Window time.Duration
	// Batch bounds the messages one fetch takes. Default: DefaultBatch.
	Batch int
	// Workers bounds the commands of one wave: the first undecided
	// command of as many aggregates (conversations, accounts), decided
	// together and appended together; one aggregate's commands are
	// decided one wave after another. Default: DefaultWorkers.
	Workers int
	// Apps are the apps whose intake streams Open creates (or updates);
	// each must be a valid app name (ErrAppName). Streams of other apps
	// that exist are served too. Default: none.
	Apps []string
	// AppLimit bounds the messages waiting in each app's intake stream: a
	// publish beyond it is refused, another app's stream still takes its
	// own. Default: DefaultAppLimit.
	AppLimit int64
	// AppMaxBytes bounds the bytes each app's intake stream holds; a
	// publish beyond it is refused. Default: DefaultAppMaxBytes.
	AppMaxBytes int64
	// RetryDelay is the delay of a Nak for a retryable refusal.
	// Default: DefaultRetryDelay.
	RetryDelay time.Duration
	// Replicas and PlacementTags place the stream and the bucket as the
	// event log's (node Options.Replicas, PlacementTags): a new one is
	// created with them (1 replica when 0), an existing one must have
	// them when given (ErrReplicationMismatch). Default: 0, none.
	Replicas      int
	PlacementTags []string
	// Logger receives the intake's logs. Default: slog.Default().
	Logger *slog.Logger
	// Observer counts decided commands. Default: nil, nothing counted.
	Observer Observer
	// Holding is the intake's lease (package lease): whether this node
	// holds it now, and its term. The consumer asks before each batch and
	// decides none once it is lost, leaving the batch unacknowledged for
	// the new holder. Default: nil, always held (one node alone).
	Holding func() (term uint64, ok bool)
}

// EnsureDefaults fills every zero field with its default.
func (o *Options) EnsureDefaults() {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.AppLimit <= 0 {
		o.AppLimit = DefaultAppLimit
	}
	if o.AppMaxBytes <= 0 {
		o.AppMaxBytes = DefaultAppMaxBytes
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = DefaultRetryDelay
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Holding == nil {
		o.Holding = func() (uint64, bool) { return 0, true }
	}
}

// Command is one intake command as the Decider takes it: the app of its
// subject (which NATS permissions guarantee), its action and its body.
type Command struct {
	App    events.App
	Action string
	Body   []byte
}

// Decision is what the Decider made of one Command: its reply, or its
// refusal (Err).
type Decision struct {
	Reply api.CommandReply
	Err   error
}

// Decider decides intake commands through the same path as request/reply;
// package service implements it.
type Decider interface {
	// IntakeAll decides a wave of commands, each as its app's principal,
	// and returns decisions[i] for cmds[i]. The consumer passes commands
	// on distinct aggregates, at most one of each conversation, so that
	// their appends can go to the log together.
	IntakeAll(ctx context.Context, cmds []Command) (decisions []Decision)
	// WireError is err as the contract's refusal: its status, code,
	// message and the policy version in force.
	WireError(err error) api.Error
}

// Observer receives the intake's measurements; package metrics implements
// it.
type Observer interface {
	// IntakeDecided is one intake command with a final outcome: code is
	// "ok" or the contract's error code.
	IntakeDecided(action, code string)
}
