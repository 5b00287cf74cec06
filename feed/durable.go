package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// The durable publisher's fixed settings.
const (
	// maxPending bounds the notifications published and not yet
	// acknowledged by the streams: past it a publish waits (stallWait),
	// so that a projector outrunning JetStream slows down rather than
	// piling them up in memory.
	maxPending = 4096
	// stallWait is how long a publish waits for room under maxPending
	// before it gives up (the note is then lost, and logged).
	stallWait = 10 * time.Second
	// ackTimeout is how long a publish waits for its acknowledgement
	// before it counts as failed (logged).
	ackTimeout = 30 * time.Second
)

// Durable is a projector.Feeds that keeps each note, without its text or
// reaction, in its app's durable feed stream (api.DurableFeedStream,
// docs/feeds.md "Durable feeds for app backends"), with a Nats-Msg-Id
// (MsgID) that makes a note published again within the duplicate window
// (a replay of views that lost their last batches, another node of the
// queries role, an online rebuild) stored once. It publishes
// asynchronously: a run costs no round trip; a failure is logged. Notes
// of accounts of an app without a stream are left out. Used by one
// goroutine at a time, as Feed is.
type Durable struct {
	js       jetstream.JetStream
	apps     map[string]bool
	buf      []byte
	subjects subjects // recent viewers' subjects, as Feed's
}

var _ projector.Feeds = (*Durable)(nil)

// OpenDurable creates or updates the durable feed stream of each of o.Apps
// (EnsureStreams) and returns a Durable publishing into them on nc.
func OpenDurable(ctx context.Context, nc *nats.Conn, o DurableOptions) (*Durable, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	logger := o.Logger
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(maxPending),
		jetstream.WithPublishAsyncTimeout(ackTimeout),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			logger.Warn("feed: a durable notification was not stored", slog.String("subject", m.Subject),
				slog.String("id", m.Header.Get(jetstream.MsgIDHeader)), slog.Any("err", err))
		}))
	if err != nil {
		return nil, err
	}
	if err := EnsureStreams(ctx, js, o); err != nil {
		return nil, err
	}
	d := &Durable{js: js, apps: map[string]bool{}, subjects: newSubjects(api.DurableFeedSubject)}
	for _, app := range o.Apps {
		d.apps[app] = true
	}
	return d, nil
}

// Publish publishes each note of an app with a stream, without its text,
// reaction or erasure, and none of presence; it returns the first error
// and goes on with the rest.
//
// Presence is current state, not history a backend replays, and it is the
// note that fans out widest (to every partner of the account's
// conversations): a flood of presence changes stored durably, at about
// 13 µs of JetStream work per note, stalled the read model for everyone
// (internal/rawattack TestPresenceFloodDoesNotStallOthers: alice's
// write-then-read p50 from 35 ms to 450 ms). A backend reads presence with
// the presence query.
func (d *Durable) Publish(notes []projector.Note) error {
	var first error
	for i := range notes {
		n := &notes[i]
		app, _, _ := strings.Cut(string(n.Viewer), ":")
		if !d.apps[app] || n.Kind == api.NotePresenceChanged {
			continue
		}
		note := n.Notification
		note.Text, note.Reaction, note.Erased = "", "", nil // sealed content stays out (docs/erasure.md)
		d.buf = appendNotification(d.buf[:0], &note)
		m := &nats.Msg{Subject: d.subject(n.Viewer), Header: nats.Header{jetstream.MsgIDHeader: {MsgID(n)}},
			Data: append([]byte(nil), d.buf...)} // the future keeps m until acknowledged
		if _, err := d.js.PublishMsgAsync(m, jetstream.WithStallWait(stallWait)); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// subject is viewer's durable feed subject.
func (d *Durable) subject(viewer events.Account) string { return d.subjects.of(viewer) }

// Wait waits until every note published so far is acknowledged or failed,
// or ctx is done.
func (d *Durable) Wait(ctx context.Context) error {
	select {
	case <-d.js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// MsgID is n's Nats-Msg-Id: the same for the same notification however
// often it is published. A note of an event is one per (stream, seq,
// viewer): "<stream>.<seq>.<viewer>"; a visibility.changed, which no
// event causes, one per (policy version, viewer, account):
// "p<version>.<viewer>.<account>".
func MsgID(n *projector.Note) string {
	if n.Kind == api.NoteVisibilityChanged {
		return "p" + strconv.FormatUint(n.PolicyVersion, 10) + "." + string(n.Viewer) + "." + n.Account
	}
	return strconv.Itoa(n.Stream) + "." + strconv.FormatUint(n.Seq, 10) + "." + string(n.Viewer)
}

// ErrReplicationMismatch reports an existing durable feed stream whose
// replicas or placement differ from those asked for; crosstalk never
// rescales a stream itself.
var ErrReplicationMismatch = errors.New("feed: durable feed stream's replication differs from the one asked for")

// EnsureStreams creates the durable feed stream of each of o.Apps, or
// updates an existing one's retention and duplicate window to o's,
// keeping its replication (which must be o's, if given).
func EnsureStreams(ctx context.Context, js jetstream.JetStream, o DurableOptions) error {
	o.EnsureDefaults()
	var errs []error
	for _, app := range o.Apps {
		errs = append(errs, ensureStream(ctx, js, app, o))
	}
	return errors.Join(errs...)
}

func ensureStream(ctx context.Context, js jetstream.JetStream, app string, o DurableOptions) error {
	cfg := StreamConfig(app, o)
	s, err := js.Stream(ctx, cfg.Name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		_, err = js.CreateStream(ctx, cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return nil // another node created it meanwhile
		}
		if err == nil {
			o.Logger.Info("feed: created durable feed stream", slog.String("stream", cfg.Name), slog.Duration("max_age", cfg.MaxAge))
		}
		return err
	case err != nil:
		return fmt.Errorf("durable feed stream %s: %w", cfg.Name, err)
	}
	have := s.CachedInfo().Config
	if err := checkReplication(o, have); err != nil {
		return err
	}
	if have.MaxAge == cfg.MaxAge && have.Duplicates == cfg.Duplicates {
		return nil
	}
	have.MaxAge, have.Duplicates = cfg.MaxAge, cfg.Duplicates
	_, err = js.UpdateStream(ctx, have)
	return err
}
