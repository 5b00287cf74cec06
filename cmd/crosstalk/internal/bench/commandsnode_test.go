package bench

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
)

// The node of cmd_send_commands_node is a commands-only node: its status
// names the commands role alone and no views, and it answers commands but
// no query; and the phase records the figure, every command of which is
// in the stream.
func TestCommandsNodeKeepsNoReadModel(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t)
	opts := tiny()
	opts.NatsURL = srv.URL()
	opts.EnsureDefaults()
	env, err := startEnv(ctx, opts, envKind{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.close(); err != nil {
			t.Error(err)
		}
	})
	r := &runner{opts: opts, env: env, progress: silent{}}
	svc, err := r.commandsNode(nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := client.New(srv.Connect(t))
	err = withService(ctx, svc, func(ctx context.Context) error {
		st, err := cl.NodeStatus(ctx, commandsNodeID)
		if err != nil {
			return err
		}
		if st.Views || !slices.Equal(st.Roles, []string{api.RoleCommands}) {
			t.Errorf("status of the commands node: views %v, roles %q; want no views and [commands]", st.Views, st.Roles)
		}
		var page json.RawMessage
		qctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		err = cl.Query(qctx, "inbox", map[string]any{"account": account(appA, "send-a", 0)}, &page)
		if !errors.Is(err, nats.ErrNoResponders) {
			t.Errorf("an inbox query to a cluster of one commands node: %v, %s; want no responders", err, page)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmdSendCommandsNode(ctx); err != nil {
		t.Fatal(err)
	}
	fig, ok := r.result.Figure(figSendNode)
	if !ok || fig.Count <= 0 {
		t.Fatalf("figure %s = %+v, %v; want commands counted", figSendNode, fig, ok)
	}
	last, err := env.log.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(fig.Count) + uint64(opts.Conversations); last < want {
		t.Errorf("the stream holds %d events; want at least %d (%d conversations started, %d commands acknowledged)",
			last, want, opts.Conversations, fig.Count)
	}
}
