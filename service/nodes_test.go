package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/service"
)

// Every reply names the node that answered in the Crosstalk-Node header:
// a command's, a refused command's, a query's, one carrying a trace
// context, an admin request's and a refused one's.
func TestEveryReplyNamesItsNode(t *testing.T) {
	h := newHarness(t)
	h.restart(service.Options{NodeID: "edge-3"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := `{"command_id":"` + uuid.NewString() + `","actor":"instagram:alice","status":"active"}`
	traced := nats.NewMsg(api.QuerySubject(api.QueryPolicy))
	traced.Data = []byte(`{}`)
	traced.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	for _, c := range []struct {
		name string
		msg  *nats.Msg
		code string
	}{
		{"command", &nats.Msg{Subject: api.CommandSubject("instagram", api.ActionPresenceSet), Data: []byte(cmd)}, ""},
		{"refused command", &nats.Msg{Subject: api.CommandSubject("instagram", api.ActionPresenceSet), Data: []byte(`{}`)}, "400"},
		{"query", &nats.Msg{Subject: api.QuerySubject(api.QueryStatus), Data: []byte(`{}`)}, ""},
		{"traced query", traced, ""},
		{"admin", &nats.Msg{Subject: api.AdminNodeStatus("edge-3"), Data: []byte(`{}`)}, ""},
		{"refused admin", &nats.Msg{Subject: api.AdminViewsRebuild, Data: []byte(`[]`)}, "400"},
	} {
		reply, err := h.nc.RequestMsgWithContext(ctx, c.msg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := reply.Header.Get(micro.ErrorCodeHeader); got != c.code {
			t.Errorf("%s: error code %q, want %q: %s", c.name, got, c.code, reply.Data)
		}
		if got := reply.Header.Get(api.NodeHeader); got != "edge-3" {
			t.Errorf("%s: %s %q, want edge-3 (headers %v)", c.name, api.NodeHeader, got, reply.Header)
		}
	}
	if got := reply(ctx, t, h, traced).Header.Get("traceparent"); got == "" {
		t.Error("the traced query's reply lost its trace context beside the node header")
	}
}

func reply(ctx context.Context, t *testing.T, h *harness, m *nats.Msg) *nats.Msg {
	t.Helper()
	r, err := h.nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
