package node_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/node"
)

// Interest tells whether a subscriber, on any other connection, would get
// what the node publishes on a subject, and stops telling so once it left.
func TestInterestSeesAnotherConnectionsSubscription(t *testing.T) {
	ctx := context.Background()
	n := startNode(ctx, t, node.Options{})
	subject := api.FeedSubject("messenger:bob")
	wantInterest(t, n, subject, false)
	nc, err := nats.Connect(n.Conn().ConnectedUrl())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync(api.FeedPrefix + "messenger.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	wantInterest(t, n, subject, true)
	wantInterest(t, n, api.FeedSubject("instagram:alice"), false)
	if err := sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	wantInterest(t, n, subject, false)
}

func wantInterest(t *testing.T, n *node.Node, subject string, want bool) {
	t.Helper()
	got, err := n.Interest(subject)
	if err != nil || got != want {
		t.Errorf("Interest(%s) = %v, %v; want %v", subject, got, err, want)
	}
}
