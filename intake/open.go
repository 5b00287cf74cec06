package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
)

// Intake is the intake's JetStream side, set up: the streams, the
// consumers and the outcomes bucket. Open it at a node's start; run its
// Consumer.
type Intake struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	kv   jetstream.KeyValue
	opts Options
}

// Open retires the legacy intake stream (retireLegacy), creates the intake
// stream of each of Options.Apps and the outcomes bucket, or checks and
// updates existing ones (a new window or new limits apply); it may run on
// every start of every node. It refuses options Options.Validate refuses.
// The consumers are the running Consumer's.
func Open(ctx context.Context, js jetstream.JetStream, opts Options) (*Intake, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.EnsureDefaults()
	if err := retireLegacy(ctx, js, opts.Logger); err != nil {
		return nil, fmt.Errorf("retire intake stream %s: %w", LegacyStreamName, err)
	}
	var errs []error
	for _, app := range opts.Apps {
		if err := ensureStream(ctx, js, app, opts); err != nil {
			errs = append(errs, fmt.Errorf("intake stream %s: %w", AppStream(app), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	kv, err := ensureBucket(ctx, js, opts)
	if err != nil {
		return nil, fmt.Errorf("outcomes bucket %s: %w", OutcomesBucket, err)
	}
	return &Intake{nc: js.Conn(), js: js, kv: kv, opts: opts}, nil
}

// Outcome returns the outcome of app's intake command commandID; found is
// false when none is known: never decided through the intake, or longer
// ago than the window.
func (in *Intake) Outcome(ctx context.Context, app, commandID string) (o api.Outcome, found bool, err error) {
	key := outcomeKey(app, commandID)
	if key == "" {
		return api.Outcome{}, false, nil
	}
	e, err := in.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return api.Outcome{}, false, nil
	}
	if err != nil {
		return api.Outcome{}, false, err
	}
	if err := json.Unmarshal(e.Value(), &o); err != nil {
		return api.Outcome{}, false, fmt.Errorf("outcome of %s: %w", commandID, err)
	}
	return o, true, nil
}

// Pending is how many intake messages wait, all apps' streams together:
// not yet delivered, and delivered but not yet acknowledged; a work queue
// holds exactly those. A stream that does not answer is an error, never
// a zero.
func (in *Intake) Pending(ctx context.Context) (uint64, error) {
	names, err := intakeStreams(ctx, in.js)
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, name := range names {
		s, err := in.js.Stream(ctx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue // deleted since it was named: the legacy stream, drained
		}
		if err != nil {
			return 0, err
		}
		n += s.CachedInfo().State.Msgs
	}
	return n, nil
}

// outcomeKey is the key of the outcome of app's command commandID in the
// bucket (api.IntakeMsgID), or "" when it can be none: an outcome is kept
// under its own app's name only, so no app reads or overwrites another's.
func outcomeKey(app, commandID string) string {
	if app == "" || commandID == "" {
		return ""
	}
	key := api.IntakeMsgID(app, commandID)
	if !validKey(key) {
		return ""
	}
	return key
}

// validKey reports whether id can be a key of the outcomes bucket (a
// command id is a UUID; anything else a producer put in Nats-Msg-Id may not).
func validKey(id string) bool {
	if id == "" || id[0] == '.' || id[len(id)-1] == '.' || strings.Contains(id, "..") || len(id) > 256 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=' || c == '/' || c == '.') {
			return false
		}
	}
	return true
}

func (in *Intake) logger() *slog.Logger { return in.opts.Logger }
