package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2024, 3, 1, 13, 0, 0, 123456789, time.FixedZone("UTC+1", 3600))

// samples has one payload per event type of the contract.
var samples = map[Type]any{
	ConversationStarted: ConversationStartedData{ConversationID: "0190c2d4-0000-7000-8000-000000000001",
		StartedBy: "instagram:alice", Participants: []Account{"instagram:alice", "messenger:bob"}, CrossApp: true},
	MessageSent:        MessageSentData{MessageID: "0190c2d4-0000-7000-8000-0000000000f1", Sender: "instagram:alice", Text: "hi <bob> & \"you\" 😀"},
	MessageEdited:      MessageEditedData{MessageID: "0190c2d4-0000-7000-8000-0000000000f1", Editor: "instagram:alice", Text: "hi"},
	MessageUnsent:      MessageUnsentData{MessageID: "0190c2d4-0000-7000-8000-0000000000f1", By: "instagram:alice"},
	MessageReacted:     MessageReactedData{MessageID: "0190c2d4-0000-7000-8000-0000000000f1", Account: "messenger:bob", Reaction: "❤️"},
	MessageRead:        MessageReadData{MessageID: "0190c2d4-0000-7000-8000-0000000000f1", Account: "messenger:bob"},
	CallStarted:        CallStartedData{CallID: "0190c2d4-0000-7000-8000-0000000000c1", By: "messenger:bob", Media: "video"},
	CallEnded:          CallEndedData{CallID: "0190c2d4-0000-7000-8000-0000000000c1", By: "instagram:alice"},
	ConversationClosed: ConversationClosedData{Reason: ClosedByPolicy, PolicyVersion: 2},
	PresenceChanged:    PresenceChangedData{Account: "instagram:alice", Status: StatusIdle},
	SettingsChanged:    SettingsChangedData{Account: "messenger:bob", ShowActivityStatus: false, SendReadReceipts: true},
	PolicyPublished: PolicyPublishedData{Version: 2, Name: "cross-app-disconnect-2023-12",
		EffectiveAt: time.Date(2023, 12, 14, 0, 0, 0, 0, time.UTC),
		Links:       []LinkData{{From: "instagram", To: "messenger"}, {From: "messenger", To: "instagram", SeeReadReceipts: true}}},
	AccountErased:  AccountErasedData{Account: "instagram:alice", By: "instagram:alice"},
	ContentExpired: ContentExpiredData{Through: 41, Before: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), PolicyVersion: 3},
}

func sample(t *testing.T, typ Type) Event {
	t.Helper()
	e, err := New(typ, "0190c2d4-0000-7000-8000-000000000001", testNow, "0190c2d4-0000-7000-8000-0000000000a1", 2, samples[typ])
	if err != nil {
		t.Fatal(err)
	}
	e.ID = DerivedID(testNow, string(typ))
	e.StreamVersion, e.PrevHash = 7, Hash([]byte("previous"))
	return e
}

func TestTypesAreTheContractsFourteen(t *testing.T) {
	if len(Types) != 14 {
		t.Fatalf("%d types, the contract has 14", len(Types))
	}
	for _, typ := range Types {
		if !strings.HasPrefix(string(typ), "crosstalk.") || !strings.HasSuffix(string(typ), ".v1") {
			t.Errorf("type %q is not crosstalk.<name>.v1", typ)
		}
		if _, ok := samples[typ]; !ok {
			t.Errorf("no sample payload for %s", typ)
		}
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, typ := range Types {
		t.Run(string(typ), func(t *testing.T) {
			e := sample(t, typ)
			b, err := Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if back.Payload != nil || !reflect.DeepEqual(e.Payload, samples[typ]) {
				t.Fatalf("payload decoded %+v, built %+v; want none and the sample", back.Payload, e.Payload)
			}
			stored := e
			stored.Payload = nil // never encoded
			if !reflect.DeepEqual(back, stored) {
				t.Fatalf("Decode(Encode(e)) =\n%+v\nwant\n%+v", back, stored)
			}
			again, _ := Encode(back)
			if !bytes.Equal(again, b) {
				t.Errorf("re-encoding changed the bytes:\n%s\n%s", b, again)
			}
			// The payload decodes back into its own type.
			got := reflect.New(reflect.TypeOf(samples[typ]))
			if err := back.DecodeData(got.Interface()); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Elem().Interface(), samples[typ]) {
				t.Errorf("data = %+v, want %+v", got.Elem().Interface(), samples[typ])
			}
		})
	}
}

// The stored JSON has exactly the envelope fields of the contract, the
// constants filled in and the time in UTC.
func TestEncodedEnvelope(t *testing.T) {
	b, err := Encode(sample(t, MessageSent))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"specversion", "id", "source", "type", "subject", "time", "datacontenttype",
		"causationid", "policyversion", "streamversion", "prevhash", "data"}
	if len(m) != len(want) {
		t.Errorf("fields %v, want %v", keys(m), want)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("field %q missing", k)
		}
	}
	for k, v := range map[string]string{"specversion": `"1.0"`, "source": `"crosstalk"`,
		"datacontenttype": `"application/json"`, "time": `"2024-03-01T12:00:00.123456789Z"`,
		"type": `"crosstalk.message.sent.v1"`, "policyversion": "2", "streamversion": "7"} {
		if string(m[k]) != v {
			t.Errorf("%s = %s, want %s", k, m[k], v)
		}
	}
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestDecodeRefuses(t *testing.T) {
	good, _ := Encode(sample(t, MessageSent))
	edit := func(from, to string) []byte { return bytes.Replace(good, []byte(from), []byte(to), 1) }
	for name, b := range map[string][]byte{
		"empty":             nil,
		"garbage":           []byte("not json"),
		"array":             []byte(`[1, 2]`),
		"truncated":         good[:len(good)/2],
		"wrong specversion": edit(`"specversion":"1.0"`, `"specversion":"0.3"`),
		"no specversion":    edit(`"specversion":"1.0",`, ``),
		"wrong source":      edit(`"source":"crosstalk"`, `"source":"elsewhere"`),
		"no id":             edit(`"id":"`+sample(t, MessageSent).ID+`"`, `"id":""`),
		"unknown type":      edit(`crosstalk.message.sent.v1`, `crosstalk.message.sent.v9`),
		"bad time":          edit(`"time":"2024-03-01T12:00:00.123456789Z"`, `"time":"yesterday"`),
	} {
		if _, err := Decode(b); !errors.Is(err, ErrMalformedEvent) {
			t.Errorf("%s: Decode = %v, want ErrMalformedEvent", name, err)
		}
		if _, err := Record(1, b); !errors.Is(err, ErrMalformedEvent) {
			t.Errorf("%s: Record = %v, want ErrMalformedEvent", name, err)
		}
	}
}

func TestDecodeIgnoresUnknownFields(t *testing.T) {
	good, _ := Encode(sample(t, MessageRead))
	newer := bytes.Replace(good, []byte(`{"specversion"`), []byte(`{"traceparent":"00-x","specversion"`), 1)
	if _, err := Decode(newer); err != nil {
		t.Fatalf("a newer writer's extra field: %v", err)
	}
}

func TestDecodeDataRefusesWrongShape(t *testing.T) {
	e := sample(t, MessageSent)
	var d ConversationStartedData
	e.Data = json.RawMessage(`{"participants": "instagram:alice"}`)
	if err := e.DecodeData(&d); !errors.Is(err, ErrMalformedEvent) {
		t.Fatalf("DecodeData = %v, want ErrMalformedEvent", err)
	}
}

func TestNewRefusesUnencodableData(t *testing.T) {
	if _, err := New(MessageSent, "s", testNow, "c", 0, func() {}); err == nil {
		t.Fatal("New accepted a func as data")
	}
}

func TestHashAndRecord(t *testing.T) {
	for in, want := range map[string]string{
		"":    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	} {
		if got := Hash([]byte(in)); got != want {
			t.Errorf("Hash(%q) = %s, want %s", in, got, want)
		}
	}
	b, _ := Encode(sample(t, CallStarted))
	r, err := Record(42, b)
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 42 || r.Hash != Hash(b) || r.Event.Type != CallStarted {
		t.Errorf("Record = %+v", r)
	}
}

// DataOf returns the payload New was given without parsing Data, and for an
// event decoded from bytes, or asked for another type, decodes Data as
// DecodeData does: both give the same value for every type.
func TestDataOfWithAndWithoutPayload(t *testing.T) {
	for _, typ := range Types {
		e := sample(t, typ)
		b, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		typed, fromBytes := dataOf(t, typ, e), dataOf(t, typ, back)
		if !reflect.DeepEqual(typed, fromBytes) || !reflect.DeepEqual(typed, samples[typ]) {
			t.Errorf("%s: DataOf with payload %+v, from bytes %+v, want %+v", typ, typed, fromBytes, samples[typ])
		}
	}
	e := sample(t, MessageSent)
	e.Payload = MessageEditedData{MessageID: "not this one"}
	if d, err := DataOf[MessageSentData](e); err != nil || d != samples[MessageSent] {
		t.Errorf("DataOf with a payload of another type = %+v, %v; want the data decoded", d, err)
	}
}

// dataOf calls DataOf with the data type of typ.
func dataOf(t *testing.T, typ Type, e Event) any {
	t.Helper()
	var d any
	var err error
	switch typ {
	case ConversationStarted:
		d, err = DataOf[ConversationStartedData](e)
	case MessageSent:
		d, err = DataOf[MessageSentData](e)
	case MessageEdited:
		d, err = DataOf[MessageEditedData](e)
	case MessageUnsent:
		d, err = DataOf[MessageUnsentData](e)
	case MessageReacted:
		d, err = DataOf[MessageReactedData](e)
	case MessageRead:
		d, err = DataOf[MessageReadData](e)
	case CallStarted:
		d, err = DataOf[CallStartedData](e)
	case CallEnded:
		d, err = DataOf[CallEndedData](e)
	case ConversationClosed:
		d, err = DataOf[ConversationClosedData](e)
	case PresenceChanged:
		d, err = DataOf[PresenceChangedData](e)
	case SettingsChanged:
		d, err = DataOf[SettingsChangedData](e)
	case PolicyPublished:
		d, err = DataOf[PolicyPublishedData](e)
	case AccountErased:
		d, err = DataOf[AccountErasedData](e)
	case ContentExpired:
		d, err = DataOf[ContentExpiredData](e)
	default:
		t.Fatalf("no data type for %s", typ)
	}
	if err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
	return d
}
