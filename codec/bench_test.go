package codec

import (
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
)

// BenchmarkDecodeSend is the request side of one message.send: reading the
// app from the subject and decoding the body into the domain command, as
// service's commandHandler and conversationCommand do before Decide.
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
		if _, _, err := ConversationCommand("message.send", app, Origin{}, body); err != nil {
			b.Fatal(err)
		}
	}
}
