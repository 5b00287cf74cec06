package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
)

// ExampleClient_Feed follows messenger:bob's live feed. The notification
// numbered 3 is lost (core NATS is at most once), so Feed calls the resync
// with the last sequence it saw before going on; a real resync queries the
// inbox and the open conversation's messages with min_seq = fromSeq. Here
// a tiny stand-in for crosstalk publishes the notifications.
func ExampleClient_Feed() {
	srv, _ := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	srv.Start()
	defer srv.Shutdown()
	srv.ReadyForConnections(5 * time.Second)
	nc, _ := nats.Connect(srv.ClientURL())
	defer nc.Close()

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	seen := 0
	onChange := func(n api.Notification) {
		fmt.Printf("n=%d seq=%d %s %s%s\n", n.N, n.Seq, n.Kind, n.Account, n.ConversationID)
		if seen++; seen == 4 {
			cancel()
		}
	}
	resync := func(_ context.Context, fromSeq uint64) error {
		fmt.Printf("resync: query with min_seq=%d\n", fromSeq)
		if fromSeq == 0 {
			close(ready)
		}
		return nil
	}
	go func() {
		<-ready // subscribed and loaded: what crosstalk publishes now reaches the feed
		for _, n := range []api.Notification{
			{Seq: 10, N: 1, Kind: api.NoteMessageSent, Account: "instagram:alice"},
			{Seq: 11, N: 2, Kind: api.NotePresenceChanged, Account: "instagram:alice"},
			{Seq: 15, N: 4, Kind: api.NoteConversationClosed, ConversationID: "c1"}, // N 3 was lost
			{Seq: 15, N: 5, Kind: api.NoteVisibilityChanged, Account: "instagram:alice"},
		} {
			data, _ := json.Marshal(n)
			_ = nc.Publish(api.FeedSubject("messenger:bob"), data)
		}
	}()
	if err := client.New(nc).Feed(ctx, "messenger:bob", onChange, resync); err != nil {
		fmt.Println(err)
	}
	// Output:
	// resync: query with min_seq=0
	// n=1 seq=10 message.sent instagram:alice
	// n=2 seq=11 presence.changed instagram:alice
	// resync: query with min_seq=15
	// n=4 seq=15 conversation.closed c1
	// n=5 seq=15 visibility.changed instagram:alice
}
