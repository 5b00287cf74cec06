package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

// FuzzEventCodec feeds arbitrary bytes to Decode, the first code that reads
// what the CROSSTALK stream holds. Decode must never panic, must refuse with
// ErrMalformedEvent, and an event it accepts must survive Encode and Decode
// again.
//
// "Survive" is defined in two steps, because Decode keeps two things as the
// writer spelled them and Encode normalises both:
//
//   - Data is raw JSON. Decode copies the payload bytes as written (spaces,
//     unescaped <, > and &); Encode compacts and HTML-escapes them, as
//     encoding/json does with every json.RawMessage, and writes an absent
//     payload as null. So after one round Data is exactly
//     json.Marshal(json.RawMessage(first.Data)): the same JSON value, not
//     necessarily the same bytes.
//   - Time carries a *time.Location. An offset that equals the local zone's
//     decodes to time.Local, and a zero offset is written back as "Z", which
//     decodes to UTC: the same instant and offset in a different Location
//     value, which reflect.DeepEqual tells apart. So Time is compared with
//     Equal and the zone offset.
//
// Every other field must be reflect.DeepEqual after the first round. After
// that round the encoding is a fixed point: encoding the re-decoded event
// gives the same bytes, and decoding those gives a reflect.DeepEqual event,
// Data and Time included.
func FuzzEventCodec(f *testing.F) {
	for _, seed := range codecSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		first, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedEvent) {
				t.Fatalf("Decode refused with %v, want ErrMalformedEvent", err)
			}
			return
		}
		enc, err := Encode(first)
		if err != nil {
			t.Fatalf("Encode of a decoded event: %v\nevent %#v", err, first)
		}
		second, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(e)): %v\nencoded %s", err, enc)
		}
		if diff := roundTripDiff(first, second); diff != "" {
			t.Fatalf("Decode(Encode(e)) changed %s\ninput   %q\nencoded %s", diff, b, enc)
		}
		again, err := Encode(second)
		if err != nil {
			t.Fatalf("Encode of a re-decoded event: %v", err)
		}
		if !bytes.Equal(again, enc) {
			t.Fatalf("encoding is not a fixed point:\n%s\n%s", enc, again)
		}
		third, err := Decode(again)
		if err != nil || !reflect.DeepEqual(third, second) {
			t.Fatalf("second round: %v\n%#v\n%#v", err, third, second)
		}
	})
}

// roundTripDiff names what a first Encode/Decode round changed beyond the
// normalisation FuzzEventCodec allows, or returns "".
func roundTripDiff(first, second Event) string {
	wantData, err := json.Marshal(first.Data)
	if err != nil {
		return "data: " + err.Error()
	}
	if !bytes.Equal(second.Data, wantData) {
		return "data: " + string(first.Data) + " became " + string(second.Data)
	}
	if !sameInstantAndOffset(first.Time, second.Time) {
		return "time: " + first.Time.String() + " became " + second.Time.String()
	}
	a, b := first, second
	a.Data, b.Data = nil, nil
	a.Time, b.Time = time.Time{}, time.Time{}
	if !reflect.DeepEqual(a, b) {
		return "envelope: " + formatEvent(a) + " became " + formatEvent(b)
	}
	return ""
}

func sameInstantAndOffset(a, b time.Time) bool {
	_, offA := a.Zone()
	_, offB := b.Zone()
	return a.Equal(b) && offA == offB
}

func formatEvent(e Event) string {
	b, _ := json.Marshal(e)
	return string(b)
}

// codecSeeds are one encoded event of every type (the samples of
// envelope_test.go, plus command.rejected), and a few spellings another
// writer may use: a time with an offset, a payload with spaces and HTML
// characters, an absent payload, an unknown field.
func codecSeeds(f *testing.F) [][]byte {
	rejected := CommandRejectedData{App: "instagram", Action: "conversation.start", Actor: "instagram:alice",
		CommandID: "0190c2d4-0000-7000-8000-0000000000a1", Participants: []Account{"messenger:bob"},
		Code: "cross_app_not_allowed", Message: "policy version 2 denies it", PolicyVersion: 2}
	payloads := map[Type]any{CommandRejected: rejected}
	for typ, d := range samples {
		payloads[typ] = d
	}
	var seeds [][]byte
	for _, typ := range append(append([]Type(nil), Types...), CommandRejected) {
		e, err := New(typ, "0190c2d4-0000-7000-8000-000000000001", testNow,
			"0190c2d4-0000-7000-8000-0000000000a1", 2, payloads[typ])
		if err != nil {
			f.Fatal(err)
		}
		e.ID = DerivedID(testNow, string(typ))
		e.StreamVersion, e.PrevHash = 7, Hash([]byte("previous"))
		b, err := Encode(e)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	const head = `{"specversion":"1.0","id":"018df9e2-b200-70d8-98e0-985ecc7f6041","source":"crosstalk",` +
		`"type":"crosstalk.message.sent.v1","subject":"s","causationid":"c","policyversion":1,"streamversion":2,"prevhash":"",`
	return append(seeds,
		[]byte(head+`"time":"2024-03-01T13:00:00.5+01:00","data":{"text":"a"}}`),
		[]byte(head+`"time":"2024-03-01T12:00:00+00:00","data": { "text" : "<b> & `+"\u2028"+`" } }`),
		[]byte(head+`"time":"2024-03-01T12:00:00Z"}`),
		[]byte(head+`"time":"2024-03-01T12:00:00Z","traceparent":"00-x","data":null}`),
	)
}
