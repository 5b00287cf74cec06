package events_test

import (
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Build an event, store it, and read it back: the stored bytes are the
// CloudEvent, and their hash is the next event's prevhash.
func Example() {
	now := time.Date(2024, 3, 1, 13, 0, 0, 0, time.FixedZone("UTC+1", 3600))
	conv := "0190c2d4-0000-7000-8000-000000000001"
	e, err := events.New(events.MessageSent, conv, now, "0190c2d4-0000-7000-8000-0000000000a1", 1,
		events.MessageSentData{MessageID: "0190c2d4-0000-7000-8000-0000000000f1", Sender: "instagram:alice", Text: "hi"})
	if err != nil {
		panic(err)
	}
	e.ID = events.DerivedID(now, "example")
	e.StreamVersion = 2

	stored, _ := events.Encode(e)
	fmt.Println(string(stored))

	back, err := events.Decode(stored)
	if err != nil {
		panic(err)
	}
	var d events.MessageSentData
	_ = back.DecodeData(&d)
	fmt.Println(back.Type, back.Time, d.Sender, d.Text)
	fmt.Println(len(events.Hash(stored)))
	// Output:
	// {"specversion":"1.0","id":"018df9e2-b200-70d8-98e0-985ecc7f6041","source":"crosstalk","type":"crosstalk.message.sent.v1","subject":"0190c2d4-0000-7000-8000-000000000001","time":"2024-03-01T12:00:00Z","datacontenttype":"application/json","causationid":"0190c2d4-0000-7000-8000-0000000000a1","policyversion":1,"streamversion":2,"prevhash":"","data":{"message_id":"0190c2d4-0000-7000-8000-0000000000f1","sender":"instagram:alice","text":"hi"}}
	// crosstalk.message.sent.v1 2024-03-01 12:00:00 +0000 UTC instagram:alice hi
	// 64
}

func ExampleClassifySubject() {
	kinds := map[events.SubjectKind]string{events.SubjectUnknown: "unknown",
		events.SubjectConversation: "conversation", events.SubjectAccount: "account", events.SubjectPolicy: "policy"}
	for _, s := range []string{
		events.ConversationSubject("0190c2d4-0000-7000-8000-000000000001"),
		events.AccountSubject("messenger:bob"),
		events.PolicySubject,
		"crosstalk.events.account.messenger",
	} {
		kind, key := events.ClassifySubject(s)
		fmt.Printf("%s %q\n", kinds[kind], key)
	}
	// Output:
	// conversation "0190c2d4-0000-7000-8000-000000000001"
	// account "messenger:bob"
	// policy ""
	// unknown ""
}
