package feed

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/optcheck"
)

// Defaults of DurableOptions.
const (
	// DefaultMaxAge is how long a durable feed keeps a notification: a
	// week, for a backend down over a weekend and more.
	DefaultMaxAge = 7 * 24 * time.Hour
	// DefaultWindow is the durable feeds' duplicate window, JetStream's
	// own default: a note published again within it is stored once. The
	// server keeps every id of the window in memory.
	DefaultWindow = 2 * time.Minute
)

// ErrInvalidOptions is wrapped by each violation DurableOptions.Validate
// reports; it is the same error as every crosstalk package's
// ErrInvalidOptions.
var ErrInvalidOptions = optcheck.ErrInvalid

// DurableOptions say which durable feed streams exist and how they keep
// their notifications.
type DurableOptions struct {
	// Apps are the apps with a stream each (api.DurableFeedStream); the
	// notes of other apps' accounts are not kept. Each must be a valid
	// app name.
	Apps []string
	// MaxAge is how long a stream keeps a notification. Default:
	// DefaultMaxAge.
	MaxAge time.Duration
	// Window is the duplicate window (the streams' Duplicates), at most
	// MaxAge. Default: DefaultWindow, or MaxAge if shorter.
	Window time.Duration
	// Replicas and PlacementTags place a new stream as the event log's
	// (node Options.Replicas, PlacementTags), and must be an existing
	// one's when given. Default: 1 replica, no tags, an existing stream
	// as it is.
	Replicas      int
	PlacementTags []string
	// Logger receives what the streams do. Default: slog.Default().
	Logger *slog.Logger
}

// EnsureDefaults fills the zero fields with their defaults.
func (o *DurableOptions) EnsureDefaults() {
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Window == 0 {
		o.Window = min(DefaultWindow, o.MaxAge)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Validate reports every field of o that breaks its rule, joined, each
// wrapping ErrInvalidOptions: a zero field means its default, a negative
// duration or count is refused, and so are a Window longer than MaxAge
// and an app that is no valid app name.
func (o DurableOptions) Validate() error {
	v := optcheck.New("feed.DurableOptions")
	optcheck.NotNegative(v, "MaxAge", o.MaxAge)
	optcheck.NotNegative(v, "Window", o.Window)
	optcheck.NotNegative(v, "Replicas", o.Replicas)
	if o.MaxAge > 0 && o.Window > o.MaxAge {
		v.Add("Window", fmt.Sprintf("at most MaxAge (%s), got %s", o.MaxAge, o.Window))
	}
	for _, app := range o.Apps {
		if err := events.App(app).Validate(); err != nil {
			v.AddErr("Apps", fmt.Errorf("app %q: %w", app, err))
		}
	}
	return v.Err()
}

// StreamConfig is app's durable feed stream: its accounts' notifications
// on crosstalk.dfeed.<app>.<handle>, on file, each kept for o.MaxAge,
// deduplicated by Nats-Msg-Id for o.Window.
func StreamConfig(app string, o DurableOptions) jetstream.StreamConfig {
	o.EnsureDefaults()
	cfg := jetstream.StreamConfig{
		Name:              api.DurableFeedStream(app),
		Description:       "crosstalk durable feed of app " + app + ": its accounts' notifications, without text (docs/feeds.md)",
		Subjects:          []string{api.DurableFeedSubjects(app)},
		Retention:         jetstream.LimitsPolicy,
		Storage:           jetstream.FileStorage,
		Discard:           jetstream.DiscardOld,
		MaxAge:            o.MaxAge,
		Duplicates:        o.Window,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		MaxMsgsPerSubject: -1,
		AllowDirect:       true,
		Replicas:          max(o.Replicas, 1),
	}
	if len(o.PlacementTags) > 0 {
		cfg.Placement = &jetstream.Placement{Tags: slices.Clone(o.PlacementTags)}
	}
	return cfg
}

// checkReplication compares what o asks for with the existing stream
// have, and says how to change it.
func checkReplication(o DurableOptions, have jetstream.StreamConfig) error {
	if o.Replicas > 0 && have.Replicas != o.Replicas {
		return fmt.Errorf("%w: stream %s has %d replicas, %d were asked for (nats stream edit %s --replicas %d, or ask for %d)",
			ErrReplicationMismatch, have.Name, have.Replicas, o.Replicas, have.Name, o.Replicas, have.Replicas)
	}
	var tags []string
	if have.Placement != nil {
		tags = slices.Sorted(slices.Values(have.Placement.Tags))
	}
	if want := slices.Sorted(slices.Values(o.PlacementTags)); len(want) > 0 && !slices.Equal(tags, want) {
		return fmt.Errorf("%w: stream %s is placed by tags %v, %v were asked for (nats stream edit %s --tag ... for each tag)",
			ErrReplicationMismatch, have.Name, tags, want, have.Name)
	}
	return nil
}
