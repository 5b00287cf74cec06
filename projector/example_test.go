package projector_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// Example opens a store, applies the first events of a conversation as Run
// would from the log, and reads bob's inbox.
func Example() {
	dir, err := os.MkdirTemp("", "projector-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := projector.Open(projector.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	const conv = "0192f0a8-6c1e-7d3a-9b4e-2f5c8d1a7e60"
	at := time.Date(2023, 12, 13, 10, 0, 0, 0, time.UTC)
	started := mustEncode(events.ConversationStarted, conv, at, events.ConversationStartedData{
		ConversationID: conv, StartedBy: "instagram:alice",
		Participants: []events.Account{"instagram:alice", "messenger:bob"}, CrossApp: true,
	})
	sent := mustEncode(events.MessageSent, conv, at.Add(time.Minute), events.MessageSentData{
		MessageID: "0192f0a9-0000-7000-8000-000000000001", Sender: "instagram:alice", Text: "see you at 8?",
	})
	err = store.Apply([]events.Message{
		{Seq: 1, Subject: events.ConversationSubject(conv), Data: started},
		{Seq: 2, Subject: events.ConversationSubject(conv), Data: sent},
	})
	if err != nil {
		log.Fatal(err)
	}

	page, err := store.Inbox("messenger:bob", 20, "")
	if err != nil {
		log.Fatal(err)
	}
	for _, it := range page.Items {
		fmt.Printf("%s cross_app=%v unread=%d last=%q by %s\n",
			it.ConversationID, it.CrossApp, it.Unread, it.LastMessage.Text, it.LastMessage.Sender)
	}
	fmt.Println("checkpoint", store.Checkpoint())
	// Output:
	// 0192f0a8-6c1e-7d3a-9b4e-2f5c8d1a7e60 cross_app=true unread=1 last="see you at 8?" by instagram:alice
	// checkpoint 2
}

// mustEncode builds the stored bytes of one event, as the service appends it.
func mustEncode(t events.Type, subject string, at time.Time, data any) []byte {
	e, err := events.New(t, subject, at, events.NewID(), 1, data)
	if err != nil {
		log.Fatal(err)
	}
	e.ID = events.DerivedID(at, subject+string(t))
	b, err := events.Encode(e)
	if err != nil {
		log.Fatal(err)
	}
	return b
}
