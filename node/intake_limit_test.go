package node_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/node/nodetest"
)

// Under the generated configuration the node learns the apps from it and
// gives each an intake stream. An app that publishes to invented action
// subjects is refused past its own limit (not one per subject), while
// another app's command is still taken and decided.
func TestIntakeAppLimitUnderIdentities(t *testing.T) {
	const limit = 50
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts, c := nodetest.IdentityOptions(t)
	opts.Intake.AppLimit = limit
	opts.Roles = node.Roles{node.RoleCommands, node.RoleQueries, node.RoleCloser} // messenger's commands wait, as behind a backlog
	first := nodetest.Start(ctx, t, opts)
	n := first.Node
	url := n.Conn().ConnectedUrl()
	js, _ := jetstream.New(n.Conn())
	for _, app := range seed.Apps {
		if _, err := js.Stream(ctx, intake.AppStream(app)); err != nil {
			t.Errorf("app %s of the configuration: no intake stream: %v", app, err)
		}
	}

	messenger, _ := connectAs(t, url, c, "messenger")
	mjs, _ := jetstream.New(messenger)
	var err error
	for i := 0; i <= limit && err == nil; i++ {
		id := uuid.NewString()
		_, err = mjs.Publish(ctx, api.IntakeSubject("messenger", "invented"+strconv.Itoa(i)), startBody(id),
			jetstream.WithMsgID(api.IntakeMsgID("messenger", id)), jetstream.WithRetryAttempts(0))
		if err != nil && i < limit {
			t.Fatalf("messenger's publish %d, within its limit: %v", i, err)
		}
	}
	if err == nil || !strings.Contains(err.Error(), "maximum messages exceeded") {
		t.Errorf("messenger's publish beyond its limit of %d on invented subjects: %v, want maximum messages exceeded", limit, err)
	}

	birdy, _ := connectAs(t, url, c, "thirdparty-birdychat")
	id := uuid.NewString()
	publishStart(ctx, t, birdy, "thirdparty-birdychat", id)
	if err := first.Halt(); err != nil {
		t.Fatal(err)
	}

	opts.Roles = nil
	n = runNode(ctx, t, opts)
	birdy, _ = connectAs(t, n.Conn().ConnectedUrl(), c, "thirdparty-birdychat")
	if o := awaitQueried(ctx, t, birdy, id); o.Reply == nil {
		t.Errorf("birdychat's command, taken beside messenger's full intake: %+v, want a success", o)
	}
}

// awaitQueried asks crosstalk.query.command for the outcome of the
// caller's command id until there is one.
func awaitQueried(ctx context.Context, t *testing.T, nc *nats.Conn, id string) api.Outcome {
	t.Helper()
	body, _ := json.Marshal(api.CommandQuery{CommandID: id})
	for ctx.Err() == nil {
		m, err := nc.RequestWithContext(ctx, api.QuerySubject(api.QueryCommand), body)
		var o api.Outcome
		if err == nil && json.Unmarshal(m.Data, &o) == nil && o.CommandID == id {
			return o
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no outcome of %s", id)
	return api.Outcome{}
}
