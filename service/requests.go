package service

import (
	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/codec"
	"github.com/crosstalk-dev/crosstalk/events"
)

// The service's side of the request codec (package codec): its handlers
// decode bodies and encode command replies through these.

// decodeStrict decodes one JSON object into v strictly (codec.Decode).
func decodeStrict(body []byte, v any) error { return codec.Decode(body, v) }

// origin is where a command came from: the principal that sent it
// (identity.Principal.String(), "" when self-declared) and the trace
// context it carried.
type origin struct {
	principal string
	trace     events.Trace
}

// conversationAction decodes a conversation command body sent from from
// (codec.ConversationCommand).
func conversationAction(action string, app events.App, from origin, body []byte) (string, aggregate.Command, error) {
	return codec.ConversationCommand(action, app, codec.Origin{Principal: from.principal, Trace: from.trace}, body)
}

// accountAction decodes presence.set and settings.set sent from from
// (codec.AccountCommand).
func accountAction(action string, app events.App, from origin, body []byte) (aggregate.Command, error) {
	return codec.AccountCommand(action, app, codec.Origin{Principal: from.principal, Trace: from.trace}, body)
}

// encodeCommandReply is codec.AppendCommandReply for a handler's result,
// when it is a CommandReply.
func encodeCommandReply(res any) ([]byte, bool) {
	r, ok := res.(api.CommandReply)
	if !ok {
		return nil, false
	}
	return codec.AppendCommandReply(make([]byte, 0, 256), r)
}
