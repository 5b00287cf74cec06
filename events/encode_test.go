package events

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Encode writes the envelope by hand; the stored bytes, and so every chain
// hash, must stay exactly json.Marshal's. This compares the two on many
// random events of every type: strings with every character encoding/json
// escapes (controls, quotes, <, >, &, U+2028, U+2029, invalid UTF-8), times
// in many zones and out of range, data as New makes it and data as a reader
// may have found it (spaced, unescaped, invalid, empty, absent).
func TestEncodeIsJSONMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for i := range n {
		typ := Types[i%len(Types)]
		e, err := New(typ, randString(rng), randTime(rng), randString(rng), rng.Uint64(), randData(rng, typ))
		if err != nil {
			t.Fatal(err)
		}
		e.ID, e.PrevHash, e.StreamVersion = randString(rng), randString(rng), rng.Uint64()>>rng.IntN(64)
		e.Time = randTime(rng) // New's is UTC; a decoded event's need not be
		if rng.IntN(4) == 0 {
			e.Data, e.Payload = randRaw(rng), nil
		}
		if rng.IntN(2) == 0 {
			e.Principal = randString(rng)
		}
		if rng.IntN(3) == 0 {
			e.TraceParent = randString(rng)
		}
		if rng.IntN(3) == 0 {
			e.TraceState = randString(rng)
		}
		if rng.IntN(8) == 0 {
			e.SpecVersion, e.Source, e.DataContentType, e.Type = randString(rng), randString(rng), randString(rng), Type(randString(rng))
		}
		checkEncode(t, e)
	}
}

// FuzzEncode compares Encode with json.Marshal on arbitrary field values.
func FuzzEncode(f *testing.F) {
	f.Add("id", "crosstalk.message.sent.v1", "subj", "cause", "", "prev", uint64(1), uint64(2), int64(0), 0, []byte(`{"a":"<b>"}`), "", "")
	f.Add("\xff\u2028", "<&>", "\x00\x1f\"\\", "é😀", "instagram/instagram:alice", "\u2029", uint64(0), ^uint64(0), int64(-1), -3600, []byte(` { "a" : [1, 2] } `),
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "congo=t61rcWkgMzE")
	f.Add("", "", "", "", "\u2028<", "", uint64(0), uint64(0), int64(1<<62), 45296, []byte(`{"a":`), "<\x00", "")
	f.Fuzz(func(t *testing.T, id, typ, subject, cause, principal, prev string, pv, sv uint64, nanos int64, offset int, data []byte, parent, state string) {
		at := time.Unix(0, nanos).In(time.FixedZone("z", offset%(100*3600)))
		checkEncode(t, Event{SpecVersion: SpecVersion, ID: id, Source: Source, Type: Type(typ), Subject: subject,
			Time: at, DataContentType: DataContentType, CausationID: cause, Principal: principal,
			TraceParent: parent, TraceState: state, PolicyVersion: pv,
			StreamVersion: sv, PrevHash: prev, Data: data})
	})
}

func checkEncode(t *testing.T, e Event) {
	t.Helper()
	want, wantErr := json.Marshal(e)
	got, err := Encode(e)
	if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
		t.Fatalf("Encode = %s, %v\njson.Marshal = %s, %v\nevent %#v", got, err, want, wantErr, e)
	}
}

// randString draws a short string from pieces that encoding/json writes as
// they are and pieces it escapes.
func randString(rng *rand.Rand) string {
	pieces := []string{"a", "Z", "0", " ", "-", ":", "é", "😀", "\u2028", "\u2029", "\xff", "\xe2\x80", "\xed\xa0\x80",
		"\"", "\\", "<", ">", "&", "\x00", "\b", "\f", "\n", "\r", "\t", "\x1f", "\x7f", "/", "'", "\u00a0", "\ufeff"}
	var b strings.Builder
	for range rng.IntN(12) {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

// randTime is a time between years -50 and 10050 (outside 0..9999
// json.Marshal refuses it) in UTC, the local zone or a fixed offset.
func randTime(rng *rand.Rand) time.Time {
	const year = int64(365.2425 * 24 * 3600)
	t := time.Unix(rng.Int64N(10100*year)-(1970+50)*year, rng.Int64N(1e9)*int64(rng.IntN(2)))
	switch rng.IntN(3) {
	case 0:
		return t.UTC()
	case 1:
		return t.Local()
	}
	return t.In(time.FixedZone("z", (rng.IntN(48*60)-24*60)*60))
}

// randData is a payload of type typ with random field values.
func randData(rng *rand.Rand, typ Type) any {
	s, a := func() string { return randString(rng) }, func() Account { return Account(randString(rng)) }
	switch typ {
	case ConversationStarted:
		return ConversationStartedData{ConversationID: s(), StartedBy: a(), Participants: []Account{a(), a()}, CrossApp: rng.IntN(2) == 0}
	case MessageSent:
		return MessageSentData{MessageID: s(), Sender: a(), Text: s()}
	case MessageEdited:
		return MessageEditedData{MessageID: s(), Editor: a(), Text: s()}
	case MessageUnsent:
		return MessageUnsentData{MessageID: s(), By: a()}
	case MessageReacted:
		return MessageReactedData{MessageID: s(), Account: a(), Reaction: s()}
	case MessageRead:
		return MessageReadData{MessageID: s(), Account: a()}
	case CallStarted:
		return CallStartedData{CallID: s(), By: a(), Media: s()}
	case CallEnded:
		return CallEndedData{CallID: s(), By: a()}
	case ConversationClosed:
		return ConversationClosedData{Reason: s(), PolicyVersion: rng.Uint64()}
	case PresenceChanged:
		return PresenceChangedData{Account: a(), Status: s()}
	case SettingsChanged:
		return SettingsChangedData{Account: a(), ShowActivityStatus: rng.IntN(2) == 0, InteropOptIn: rng.IntN(2) == 0}
	case PolicyPublished:
		return PolicyPublishedData{Version: rng.Uint64(), Name: s(), EffectiveAt: time.Unix(rng.Int64N(1e11), 0).UTC(),
			Links: []LinkData{{From: s(), To: s(), Send: true, MaxParticipants: rng.IntN(300)}}}
	}
	return CommandRejectedData{App: App(randString(rng)), Actor: Account(randString(rng)), Code: randString(rng)}
}

// randRaw is data as a stored event may hold it: compact or spaced, escaped
// or not, valid or not, empty or absent.
func randRaw(rng *rand.Rand) json.RawMessage {
	raws := []string{`{}`, `{"a":"b"}`, ` {"a" : "b"} `, "{\"a\":\n[1,\t2]}", `{"t":"<b> & </b>"}`, `{"t":"\u003c"}`,
		"{\"t\":\"\u2028\"}", `{"t":"a b"}`, `null`, `[1,2`, `{"a":}`, ``, `"x"`, `12`, `{"t":"\"<"}`, `{"t":"\\"}`}
	if i := rng.IntN(len(raws) + 1); i < len(raws) {
		return json.RawMessage(raws[i])
	}
	return nil
}

// New marshals the data of every type by hand where it can; the bytes must
// be json.Marshal's.
func TestMarshalDataIsJSONMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 20000 {
		data := randData(rng, Types[i%len(Types)])
		if rng.IntN(10) == 0 {
			if d, ok := data.(ConversationStartedData); ok {
				d.Participants = [][]Account{nil, {}}[rng.IntN(2)]
				data = d
			}
		}
		checkMarshalData(t, data)
	}
	checkMarshalData(t, randData(rng, CommandRejected))
}

// FuzzMarshalData compares marshalData with json.Marshal on arbitrary
// strings in every field of every type it writes by hand.
func FuzzMarshalData(f *testing.F) {
	f.Add("m", "a:b", "hi <b> & \u2028", uint64(7), true)
	f.Add("\xff", "\x00\"\\", "é😀\t", uint64(0), false)
	f.Fuzz(func(t *testing.T, s1, s2, s3 string, n uint64, flag bool) {
		a := Account(s2)
		for _, d := range []any{
			MessageSentData{s1, a, s3, ""}, MessageEditedData{s1, a, s3, ""}, MessageUnsentData{s1, a},
			MessageReactedData{s1, a, s3, ""}, MessageSentData{s1, a, "", s3}, MessageEditedData{s1, a, "", s3},
			MessageReactedData{s1, a, "", s3}, MessageReadData{s1, a}, CallStartedData{s1, a, s3}, CallEndedData{s1, a},
			ConversationClosedData{s1, n}, PresenceChangedData{a, s3}, SettingsChangedData{a, flag, !flag, flag},
			ConversationStartedData{s1, a, []Account{a, Account(s3)}, flag}, ConversationStartedData{ConversationID: s3},
		} {
			checkMarshalData(t, d)
		}
	})
}

func checkMarshalData(t *testing.T, data any) {
	t.Helper()
	want, wantErr := json.Marshal(data)
	got, err := marshalData(data)
	if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
		t.Fatalf("marshalData = %s, %v\njson.Marshal = %s, %v\ndata %#v", got, err, want, wantErr, data)
	}
}
