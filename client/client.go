// Package client is a small Go client for crosstalk's NATS endpoints: it
// sends commands, queries and policy publications as any producer would, and
// turns error replies back into errors that carry the contract's code. It
// speaks the wire contract of package api and needs nothing of the server.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	fastjson "github.com/goccy/go-json"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
)

// Error is an error reply of crosstalk: the contract's error body with the
// micro status code from the reply's header.
type Error = api.Error

// CodeOf returns the contract error code of err, or "" if it is not an Error.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Client talks to crosstalk over one NATS connection.
type Client struct {
	nc *nats.Conn
}

// New returns a client on nc.
func New(nc *nats.Conn) *Client { return &Client{nc: nc} }

// Command sends action for app with body (any JSON-encodable value, such as
// an api.ConversationCommand or api.AccountCommand) and returns the reply.
func (c *Client) Command(ctx context.Context, app, action string, body any) (api.CommandReply, error) {
	var r api.CommandReply
	err := c.request(ctx, api.CommandSubject(app, action), body, &r)
	return r, err
}

// Query asks crosstalk.query.<name> and decodes the reply into out.
func (c *Client) Query(ctx context.Context, name string, req any, out any) error {
	return c.request(ctx, api.QuerySubject(name), req, out)
}

// PublishPolicy publishes a policy document (raw JSON) under commandID.
func (c *Client) PublishPolicy(ctx context.Context, commandID string, policy json.RawMessage) (api.PublishReply, error) {
	var r api.PublishReply
	err := c.request(ctx, api.AdminPublish, api.PublishPolicy{CommandID: commandID, Policy: policy}, &r)
	return r, err
}

// RebuildViews asks crosstalk.admin.views.rebuild to rebuild the read
// model online, or joins the rebuild running; crosstalk.query.status shows
// its progress (Status.Rebuild).
func (c *Client) RebuildViews(ctx context.Context) (api.RebuildReply, error) {
	var r api.RebuildReply
	err := c.request(ctx, api.AdminViewsRebuild, api.RebuildViews{}, &r)
	return r, err
}

// RebuildViewsOn asks node (its id) to rebuild its own read model online,
// on crosstalk.admin.node.<node>.views.rebuild; NodeStatus shows its
// progress. A node that is not there fails at once with
// nats.ErrNoResponders.
func (c *Client) RebuildViewsOn(ctx context.Context, node string) (api.RebuildReply, error) {
	var r api.RebuildReply
	err := c.request(ctx, api.AdminNodeViewsRebuild(node), api.RebuildViews{}, &r)
	return r, err
}

// NodeStatus asks node (its id) for its own status, on
// crosstalk.admin.node.<node>.status (admins only); it answers also
// without the queries role.
func (c *Client) NodeStatus(ctx context.Context, node string) (api.Status, error) {
	var st api.Status
	err := c.request(ctx, api.AdminNodeStatus(node), api.StatusRequest{}, &st)
	return st, err
}

// policyNamespace is the UUID namespace of PolicyCommandID.
var policyNamespace = uuid.MustParse("6f2c4a8e-0d7b-4c55-9b1e-3f7a1d2c9e40")

// PolicyCommandID derives the command id of publishing a policy document
// from its bytes (a name-based UUID), so that publishing the same file
// twice, from the CLI or the demo, is one publication answered as a
// duplicate, not a new version.
func PolicyCommandID(doc []byte) string { return uuid.NewSHA1(policyNamespace, doc).String() }

// Raw sends raw bytes to subject and returns the reply message, for callers
// that want to see headers or send malformed input on purpose.
func (c *Client) Raw(ctx context.Context, subject string, data []byte) (*nats.Msg, error) {
	return c.nc.RequestWithContext(ctx, subject, data)
}

func (c *Client) request(ctx context.Context, subject string, body any, out any) error {
	// goccy/go-json encodes as encoding/json does (sorted map keys, HTML
	// escaped) at a fraction of its reflection: in the bench every client
	// encodes every command it sends.
	data, err := fastjson.Marshal(body)
	if err != nil {
		return err
	}
	msg, err := c.nc.RequestWithContext(ctx, subject, data)
	if err != nil {
		return fmt.Errorf("request %s: %w", subject, err)
	}
	if status := msg.Header.Get(micro.ErrorCodeHeader); status != "" {
		return decodeError(status, msg.Data)
	}
	// A reply is crosstalk's own JSON: goccy/go-json decodes it at a
	// third of encoding/json's cost (a page of the inbox in the bench:
	// 200 of the client's 600us per query went to encoding/json).
	return fastjson.Unmarshal(msg.Data, out)
}

func decodeError(status string, data []byte) error {
	var body api.ErrorBody
	if err := json.Unmarshal(data, &body); err != nil {
		return &Error{Status: status, Code: api.CodeInternal, Message: string(data)}
	}
	body.Error.Status = status
	return &body.Error
}
