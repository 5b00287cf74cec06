package service

import (
	"context"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/rpc"
)

// rpcHost is the service as its rpc.Server needs it (rpc.Host): kept apart
// so that the Host's methods are no part of Service's own.
type rpcHost struct{ s *Service }

// Principal reads who sent msg (identity.go).
func (h rpcHost) Principal(msg *nats.Msg) (identity.Principal, error) { return h.s.principal(msg) }

// Context is the request's deadline (requestContext).
func (h rpcHost) Context(base context.Context, kind string) (context.Context, context.CancelFunc) {
	return h.s.requestContext(base, kind)
}

// EncodeError is err's reply as the contract has it, under the policy in
// force; the header's sentence is one line and bounded.
func (h rpcHost) EncodeError(err error) (status, code, message string, body []byte) {
	status, code, body = encodeError(err, h.s.policyAt(h.s.opts.Clock.Now()).VersionOf())
	return status, code, rpc.BoundMessage(rpc.FirstLine(err.Error(), code)), body
}

// EncodeReply is res's reply body (encodeReply).
func (h rpcHost) EncodeReply(res any) ([]byte, func(), error) { return encodeReply(res) }

// FitsReply refuses a reply too large for a NATS message (rpc.FitsReply).
func (h rpcHost) FitsReply(data []byte) error { return rpc.FitsReply(h.s.nc, data) }
