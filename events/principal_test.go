package events

import (
	"bytes"
	"testing"
	"time"
)

// storedBefore is an event as the encoder wrote it before the principal
// extension existed; its bytes and hash are pinned here from that encoder.
const storedBefore = `{"specversion":"1.0","id":"0193a1b2-0000-7000-8000-000000000001","source":"crosstalk",` +
	`"type":"crosstalk.message.sent.v1","subject":"crosstalk.events.conv.0193a1b2-0000-7000-8000-0000000000aa",` +
	`"time":"2023-12-14T00:00:00.5Z","datacontenttype":"application/json",` +
	`"causationid":"0193a1b2-0000-7000-8000-0000000000cc","policyversion":2,"streamversion":3,"prevhash":"ab",` +
	`"data":{"message_id":"m1","sender":"instagram:alice","text":"hi \u003c3"}}`

const storedBeforeHash = "66fd0dfe1a08804e5fc7a138b7818624eb2b1c68037f35c07a60fadf65906c21"

func pinnedEvent(t *testing.T) Event {
	t.Helper()
	e, err := New(MessageSent, "crosstalk.events.conv.0193a1b2-0000-7000-8000-0000000000aa",
		time.Date(2023, 12, 14, 0, 0, 0, 5e8, time.UTC), "0193a1b2-0000-7000-8000-0000000000cc", 2,
		MessageSentData{MessageID: "m1", Sender: "instagram:alice", Text: "hi <3"})
	if err != nil {
		t.Fatal(err)
	}
	e.ID, e.StreamVersion, e.PrevHash = "0193a1b2-0000-7000-8000-000000000001", 3, "ab"
	return e
}

// An event without a principal (every event of development mode, and every
// event stored before the extension) encodes to exactly the bytes, and so
// the chain hash, it had before: the extension cannot break a chain.
func TestNoPrincipalEncodesAsBefore(t *testing.T) {
	b, err := Encode(pinnedEvent(t))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != storedBefore || Hash(b) != storedBeforeHash {
		t.Fatalf("encoded\n%s (hash %s)\nwant\n%s (hash %s)", b, Hash(b), storedBefore, storedBeforeHash)
	}
	back, err := Decode([]byte(storedBefore))
	if err != nil || back.Principal != "" {
		t.Fatalf("decoded %+v, %v", back, err)
	}
}

// An event with a principal carries it after causationid, where the struct
// field is, and reads it back.
func TestPrincipalExtension(t *testing.T) {
	e := pinnedEvent(t)
	e.Principal = "instagram/instagram:alice"
	b, err := Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte(`"causationid":"0193a1b2-0000-7000-8000-0000000000cc","principal":"instagram/instagram:alice","policyversion":2`)
	if !bytes.Contains(b, want) {
		t.Fatalf("encoded %s, want it to contain %s", b, want)
	}
	checkEncode(t, e)
	back, err := Decode(b)
	if err != nil || back.Principal != e.Principal {
		t.Fatalf("decoded principal %q, %v", back.Principal, err)
	}
}
