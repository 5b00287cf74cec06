package projector

import (
	"bytes"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
)

var newMessageTexts = []string{
	"", "hello", "a message of ordinary length, about fifty bytes", `say "hi"`, `a\b`, "<b>&</b>", "tab\there",
	"line\nbreak", "\x00\x1f\x7f", "é ü 日本", "\u2028\u2029", "\xff\xfe", "emoji 😀", "~!@#$%^*()_+{}|:?/.,';[]=-`",
}

var newMessageTimes = []time.Time{
	time.Date(2023, 12, 12, 9, 0, 1, 0, time.UTC),
	time.Date(2023, 12, 12, 9, 0, 1, 123456789, time.UTC),
	time.Date(2023, 12, 12, 9, 0, 1, 120000000, time.FixedZone("x", 3600)),
	time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), // refused by MarshalJSON
	{},
}

// TestEncodeNewMessage holds encodeNewMessage to json.Marshal's bytes.
func TestEncodeNewMessage(t *testing.T) {
	for _, text := range newMessageTexts {
		for _, at := range newMessageTimes {
			checkNewMessage(t, "0190a5e0-0000-7000-8000-000000000001", "instagram:alice", text, at)
			checkNewMessage(t, text, text, "x", at)
		}
	}
}

func FuzzEncodeNewMessage(f *testing.F) {
	for _, text := range newMessageTexts {
		f.Add("id", "instagram:alice", text, int64(1702371601123456789))
	}
	f.Fuzz(func(t *testing.T, id, sender, text string, ns int64) {
		checkNewMessage(t, id, sender, text, time.Unix(0, ns).UTC())
	})
}

func checkNewMessage(t *testing.T, id, sender, text string, at time.Time) {
	t.Helper()
	got, gotErr := encodeNewMessage(id, sender, text, at)
	want, wantErr := json.Marshal(api.MessageView{MessageID: id, Sender: sender, Text: text, SentAt: at})
	if !bytes.Equal(got, want) || (gotErr == nil) != (wantErr == nil) {
		t.Errorf("encodeNewMessage(%q, %q, %q, %v) = %s, %v; json.Marshal: %s, %v", id, sender, text, at, got, gotErr, want, wantErr)
	}
}
