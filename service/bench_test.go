package service

import (
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
)

// BenchmarkDecodeSend is the request side of one message.send: reading the
// app from the subject and decoding the body into the domain command, as
// commandHandler and conversationCommand do before Decide.
func BenchmarkDecodeSend(b *testing.B) {
	body := []byte(`{"command_id":"0190c2d4-0000-7000-8000-0000000000a1","actor":"messenger:bob",` +
		`"conversation_id":"0190c2d4-0000-7000-8000-000000000001",` +
		`"text":"a message of ordinary length, about sixty-four bytes of text...."}`)
	b.ReportAllocs()
	for range b.N {
		app := events.App("messenger")
		if err := app.Validate(); err != nil {
			b.Fatal(err)
		}
		if _, _, err := conversationAction("message.send", app, origin{}, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeInboxQuery is the request side of one inbox query:
// decoding and checking its body, as queryInboxNow does before the read.
func BenchmarkDecodeInboxQuery(b *testing.B) {
	body := []byte(`{"account":"instagram:hub-17"}`)
	b.ReportAllocs()
	for range b.N {
		q := inboxQuery{by: identity.SelfDeclared}
		if err := decodeStrict(body, &q); err != nil {
			b.Fatal(err)
		}
		if err := q.check(); err != nil {
			b.Fatal(err)
		}
	}
}
