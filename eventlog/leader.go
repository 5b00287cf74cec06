package eventlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// LastSeqOn returns the stream sequence of the last message on subject, 0
// when there is none, as the stream's leader knows it. It asks the
// message-get API, which only the leader answers, never a direct get: a
// direct get may be answered by a replica a few milliseconds behind, and
// the caller must learn of every message acknowledged before it asked (a
// policy published on another node, say). One request; no consumer.
func (l *Log) LastSeqOn(ctx context.Context, subject string) (uint64, error) {
	l = l.route(subject)
	ctx, cancel := l.withDefaultTimeout(ctx)
	defer cancel()
	req, err := json.Marshal(struct {
		LastFor string `json:"last_by_subj"`
	}{subject})
	if err != nil {
		return 0, err
	}
	api := apiPrefix(l.js.Options()) + "STREAM.MSG.GET." + l.spec.name
	msg, err := l.js.Conn().RequestWithContext(ctx, api, req)
	if err != nil {
		return 0, fmt.Errorf("last message on %s: %w", subject, mapReadError(err))
	}
	var resp struct {
		Error   *jetstream.APIError `json:"error"`
		Message *struct {
			Seq uint64 `json:"seq"`
		} `json:"message"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return 0, fmt.Errorf("last message on %s: the server's answer: %w", subject, err)
	}
	switch {
	case resp.Error != nil:
		err := mapError(resp.Error)
		if errors.Is(err, ErrNotFound) {
			return 0, nil
		}
		return 0, fmt.Errorf("last message on %s: %w", subject, err)
	case resp.Message == nil:
		return 0, fmt.Errorf("last message on %s: the server answered no message", subject)
	}
	return resp.Message.Seq, nil
}
