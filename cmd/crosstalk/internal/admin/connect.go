package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/node"
)

// session is a command's connection and the context its requests run
// under. NATS refuses a publish the credentials may not make
// asynchronously, and nats.go reports it to the connection's error
// handler, not to the request, which would otherwise wait out its
// timeout: the handler here ends the context with the refusal, so that
// the command fails at once, naming the subject and who was refused.
type session struct {
	nc     *nats.Conn
	ctx    context.Context
	cancel context.CancelCauseFunc
	who    string
}

// connect connects as creds for the command name.
func connect(ctx context.Context, url, name string, creds node.Credentials) (*session, error) {
	s := &session{who: creds.Who()}
	s.ctx, s.cancel = context.WithCancelCause(ctx)
	nc, err := node.ConnectWith(url, name, creds, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			s.cancel(err)
		}
	}))
	if err != nil {
		s.cancel(nil)
		return nil, err
	}
	s.nc = nc
	return s, nil
}

// close closes the connection.
func (s *session) close() {
	s.cancel(nil)
	s.nc.Close()
}

// refused is err, or the permission violation that ended the session's
// context, with the principal named: what a refused request failed of.
func (s *session) refused(err error) error {
	if err == nil {
		return nil
	}
	if cause := context.Cause(s.ctx); errors.Is(cause, nats.ErrPermissionViolation) {
		return fmt.Errorf("%w (connected %s): these credentials may not make this request", cause, s.who)
	}
	return err
}
