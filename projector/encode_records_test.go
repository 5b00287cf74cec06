package projector

import (
	"bytes"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// recordSamples builds conversation records around one text, each field
// on both sides of its omitempty and nil cases.
func recordSamples(text string, at time.Time, n uint64) []convRecord {
	full := convRecord{
		ID: text, Participants: []events.Account{alice, events.Account(text)}, Apps: []events.App{"instagram", events.App(text)},
		CrossApp: true, Closed: true, ClosedByPolicy: n, CloseReason: text, Version: n + 1, LastSeq: n * 7,
		LastHash: text, LastActivity: at, Messages: n,
		LastMessage: &lastMessageRecord{Seq: n, MessageID: text, Sender: events.Account(text), Text: text},
		Unread:      map[events.Account]uint64{bob: n, events.Account(text): 2, alice: 0},
	}
	return []convRecord{full, {}, {ID: text, Participants: []events.Account{}, Unread: map[events.Account]uint64{}, LastActivity: at}}
}

func checkRecords(t *testing.T, text string, at time.Time, n uint64) {
	t.Helper()
	for _, c := range recordSamples(text, at, n) {
		got, gotErr := encodeConvRecord(&c)
		want, wantErr := json.Marshal(&c)
		if !bytes.Equal(got, want) || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("encodeConvRecord = %s, %v\njson.Marshal     %s, %v", got, gotErr, want, wantErr)
		}
		for _, it := range []inboxItem{newInboxItem(c.ID, &c, n), {Unread: -int(n)}} {
			got, gotErr := encodeInboxItem(&it)
			want, wantErr := json.Marshal(&it)
			if !bytes.Equal(got, want) || (gotErr == nil) != (wantErr == nil) {
				t.Errorf("encodeInboxItem = %s, %v\njson.Marshal    %s, %v", got, gotErr, want, wantErr)
			}
		}
	}
	it := inboxItem{LastMessage: &api.LastMessage{Text: text}}
	got, gotErr := encodeInboxItem(&it)
	want, wantErr := json.Marshal(&it)
	if !bytes.Equal(got, want) || (gotErr == nil) != (wantErr == nil) {
		t.Errorf("encodeInboxItem = %s, %v\njson.Marshal    %s, %v", got, gotErr, want, wantErr)
	}
}

// TestEncodeRecords holds encodeConvRecord and encodeInboxItem to
// json.Marshal's bytes.
func TestEncodeRecords(t *testing.T) {
	for _, text := range newMessageTexts {
		for _, at := range newMessageTimes {
			checkRecords(t, text, at, 12345678901234)
		}
	}
}

func FuzzEncodeRecords(f *testing.F) {
	for _, text := range newMessageTexts {
		f.Add(text, int64(1702371601123456789), uint64(3))
	}
	f.Fuzz(func(t *testing.T, text string, ns int64, n uint64) {
		checkRecords(t, text, time.Unix(0, ns).UTC(), n)
	})
}
