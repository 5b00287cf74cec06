package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	fastjson "github.com/goccy/go-json"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
)

// DurableNotification is one notification of an app's durable feed
// (docs/feeds.md, "Durable feeds for app backends"): a live notification
// without its text or reaction, which the messages query loads.
type DurableNotification struct {
	// Position is its sequence in the durable feed stream: DurableFeed
	// with from = Position + 1 starts after it.
	Position uint64
	// Viewer is the account whose feed it is ("<app>:<handle>").
	Viewer string
	api.Notification
}

// durableBatch is how many notifications DurableFeed fetches at once, and
// durableWait how long one fetch waits for them: after ctx is done,
// DurableFeed returns within about this.
const (
	durableBatch = 256
	durableWait  = time.Second
)

// ErrDurableFeed reports a durable feed DurableFeed cannot follow: no such
// stream, or a consumer named durable that is not one DurableFeed made.
var ErrDurableFeed = errors.New("client: cannot follow the durable feed")

// DurableFeed follows app's durable feed, api.DurableFeedStream(app), in
// js's account (under an identity configuration, the app account's copy;
// in development mode, the service's stream), with the durable pull
// consumer named durable, until ctx is done, and returns nil then. It
// creates the consumer, starting at stream sequence from (0: the oldest
// notification kept), or resumes an existing one where it was acknowledged
// (from is then ignored). It calls fn with each notification in order and
// acknowledges it once fn returns nil, waiting for the server to confirm:
// a backend that stops and starts again gets exactly those it had not
// acknowledged. An error of fn ends DurableFeed with it; that
// notification and the rest of its batch are delivered again next time.
func DurableFeed(ctx context.Context, js jetstream.JetStream, app, durable string, from uint64,
	fn func(context.Context, DurableNotification) error) error {
	cons, err := durableConsumer(ctx, js, app, durable, from)
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(durableBatch, jetstream.FetchMaxWait(durableWait))
		if err != nil {
			return fmt.Errorf("durable feed %s: %w", durable, err)
		}
		if err := handleBatch(ctx, batch, fn); err != nil {
			return err
		}
	}
	return nil
}

// durableConsumer resumes the consumer durable of app's durable feed, or
// creates it at from.
func durableConsumer(ctx context.Context, js jetstream.JetStream, app, durable string, from uint64) (jetstream.Consumer, error) {
	stream := api.DurableFeedStream(app)
	cons, err := js.Consumer(ctx, stream, durable)
	if err == nil {
		if cons.CachedInfo().Config.AckPolicy != jetstream.AckExplicitPolicy {
			return nil, fmt.Errorf("%w: consumer %s of %s does not acknowledge explicitly", ErrDurableFeed, durable, stream)
		}
		return cons, nil
	}
	if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("%w: %s: %w", ErrDurableFeed, stream, err)
	}
	cfg := jetstream.ConsumerConfig{Durable: durable, AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: -1,
		Description: "a crosstalk app backend's position in its durable feed (client.DurableFeed)"}
	if from > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err = js.CreateConsumer(ctx, stream, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: create consumer %s of %s: %w", ErrDurableFeed, durable, stream, err)
	}
	return cons, nil
}

// handleBatch hands a fetch's notifications to fn and acknowledges each.
// Once ctx is done or fn failed, it gives the rest back at once (a Nak),
// so that the next start gets them without waiting for the ack timeout.
func handleBatch(ctx context.Context, batch jetstream.MessageBatch, fn func(context.Context, DurableNotification) error) error {
	var failed error
	for m := range batch.Messages() {
		if failed != nil || ctx.Err() != nil {
			_ = m.Nak()
			continue
		}
		n, err := decodeDurable(m)
		if err == nil {
			err = fn(ctx, n)
		}
		if err == nil {
			err = confirm(ctx, m)
		}
		if err != nil {
			failed = err
			_ = m.Nak()
		}
	}
	if failed == nil && ctx.Err() == nil {
		failed = batch.Error()
		if errors.Is(failed, jetstream.ErrNoMessages) || errors.Is(failed, context.DeadlineExceeded) {
			failed = nil
		}
	}
	return failed
}

// confirm acknowledges m and waits for the server to confirm it, even
// when ctx ends meanwhile: fn has handled m, so a backend that stops now
// must not get it again.
func confirm(ctx context.Context, m jetstream.Msg) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackConfirm)
	defer cancel()
	return m.DoubleAck(ctx)
}

// ackConfirm bounds the wait for the server to confirm an acknowledgement.
const ackConfirm = 5 * time.Second

// decodeDurable decodes one durable feed message.
func decodeDurable(m jetstream.Msg) (DurableNotification, error) {
	md, err := m.Metadata()
	if err != nil {
		return DurableNotification{}, err
	}
	n := DurableNotification{Position: md.Sequence.Stream, Viewer: api.DurableFeedAccount(m.Subject())}
	if err := fastjson.Unmarshal(m.Data(), &n.Notification); err != nil {
		return DurableNotification{}, fmt.Errorf("durable feed notification %d: %w", n.Position, err)
	}
	return n, nil
}
