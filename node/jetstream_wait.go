package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultJetStreamWait is how long a node waits at start for JetStream to
// answer, unless Options.JetStreamWait says otherwise: a cluster that was
// just started elects its meta leader within seconds.
const DefaultJetStreamWait = 30 * time.Second

// ErrJetStreamUnavailable is returned by Start when JetStream did not answer
// within Options.JetStreamWait.
var ErrJetStreamUnavailable = errors.New("JetStream unavailable")

// awaitJetStream returns once JetStream answers an account info request,
// asking again while it cannot (a cluster still electing its meta leader
// answers "temporarily unavailable" or not at all) for up to wait. An
// account without JetStream is an error at once: waiting would not help.
func awaitJetStream(ctx context.Context, js jetstream.JetStream, wait time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	pause, logged := 100*time.Millisecond, false
	for {
		err := askJetStream(ctx, js)
		switch {
		case err == nil:
			if logged {
				log.Info("JetStream answers")
			}
			return nil
		case errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount), errors.Is(err, jetstream.ErrJetStreamNotEnabled):
			return fmt.Errorf("%w: %w: enable JetStream for this account (docs/operations.md)", ErrJetStreamUnavailable, err)
		case !logged:
			log.Warn("waiting for JetStream (a cluster forming or electing its meta leader)", slog.Any("err", err), slog.Duration("up_to", wait))
			logged = true
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: no answer within %s (last: %w): is JetStream enabled on the server, and does its cluster have a quorum?",
				ErrJetStreamUnavailable, wait, err)
		case <-time.After(pause):
			pause = min(2*pause, 2*time.Second)
		}
	}
}

// askJetStream asks for the account's JetStream information once, within
// two seconds.
func askJetStream(ctx context.Context, js jetstream.JetStream) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := js.AccountInfo(ctx)
	if errors.Is(err, nats.ErrNoResponders) {
		return fmt.Errorf("no JetStream responders: %w", err)
	}
	return err
}
