package closer

import (
	"log/slog"
	"time"
)

// Options tune the closer. The zero value is usable: every field has a
// documented default.
type Options struct {
	// Clock decides which policy is in force. Default: the wall clock, in
	// UTC.
	Clock Clock
	// Logger receives structured logs. Default: slog.Default().
	Logger *slog.Logger
	// CheckInterval is how often the scheduler looks for a policy that has
	// become effective. Default: 1s.
	CheckInterval time.Duration
	// CloseGrace is how long after its first scan the closer scans again, to
	// catch a conversation started just before the effective time. It should
	// not be shorter than the command timeout. Default: 5s, the service's
	// default command timeout.
	CloseGrace time.Duration
	// CloseConcurrency bounds concurrent closings through the command path
	// (under a policy with opt-in links, or when a pipelined closing
	// conflicted). Default: 64.
	CloseConcurrency int
	// CloseRun is how many closings the closer decides from the views and
	// appends at once, pipelined, when the policy has no opt-in links.
	// Default: 1024, enough to keep JetStream busy while a run's
	// acknowledgements still return within milliseconds.
	CloseRun int
	// Principal is what each closing records as its principal (the event's
	// principal extension): "service" when the service enforces
	// identities, "" (the default) when identities are self-declared, so
	// that development mode's events are what they always were.
	Principal string
	// Holding is the closer's lease (package lease): whether this node
	// holds it now, and its term. The closer applies policies only while
	// it does, and asks again before each run of closings, so that a node
	// deposed in the middle of a pass stops there. The closings of an
	// opt-out do not ask: they follow up a command this node decided, and
	// their message ids make a repeat a no-op. Default: always held, term
	// 0 (one node alone).
	Holding func() (term uint64, ok bool)
	// Keys are what the retention sweep erases content with. Default: nil,
	// no sweep (content is not sealed, or retention is not this node's).
	Keys Keys
	// RetentionInterval is how often, at most, the closer sweeps for
	// content a retention rule (policy content_retention_days) erases, by
	// Clock: a message is erased at most that long after it is due.
	// Default: 1m.
	RetentionInterval time.Duration
	// RetentionPage is how many conversations a sweep reads from the views
	// at once, between catch-ups. Default: 100.
	RetentionPage int
}

// wallClock is the default Clock.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now().UTC() }

// EnsureDefaults fills every zero field with its default.
func (o *Options) EnsureDefaults() {
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	setDefault(&o.CheckInterval, time.Second)
	setDefault(&o.CloseGrace, 5*time.Second)
	setDefault(&o.CloseConcurrency, 64)
	setDefault(&o.CloseRun, 1024)
	setDefault(&o.RetentionInterval, time.Minute)
	setDefault(&o.RetentionPage, 100)
	if o.Holding == nil {
		o.Holding = func() (uint64, bool) { return 0, true }
	}
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}
