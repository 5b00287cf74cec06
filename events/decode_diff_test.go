package events

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzDecodeMatchesEncodingJSON checks that Decode, which reads with
// goccy/go-json for speed, accepts and refuses exactly what the same checks
// on top of encoding/json accept and refuse, and decodes the same event,
// payload included. The stored events are the truth; the decoder must not
// change what any of them means.
func FuzzDecodeMatchesEncodingJSON(f *testing.F) {
	for _, seed := range codecSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gotErr := Decode(b)
		want, wantErr := decodeWithEncodingJSON(b)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("Decode err %v, encoding/json err %v\ninput %q", gotErr, wantErr, b)
		}
		if gotErr != nil {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Decode %#v\nencoding/json %#v\ninput %q", got, want, b)
		}
		p, ok := payloadTypes[got.Type]
		if !ok {
			return
		}
		x, y := reflect.New(p), reflect.New(p)
		errX, errY := got.DecodeData(x.Interface()), json.NewDecoder(bytes.NewReader(got.Data)).Decode(y.Interface())
		if (errX == nil) != (errY == nil) || (errX == nil && !reflect.DeepEqual(x.Interface(), y.Interface())) {
			t.Fatalf("data of %s: DecodeData %v %#v\nencoding/json %v %#v", got.Type, errX, x.Interface(), errY, y.Interface())
		}
	})
}

// decodeWithEncodingJSON is Decode as it was with encoding/json.
func decodeWithEncodingJSON(b []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return Event{}, err
	}
	if e.SpecVersion != SpecVersion || e.Source != Source || e.ID == "" {
		return Event{}, ErrMalformedEvent
	}
	e, err := upcast(e)
	if err != nil {
		return Event{}, err
	}
	if !knownType(e.Type) {
		return Event{}, ErrMalformedEvent
	}
	return e, nil
}

var payloadTypes = map[Type]reflect.Type{
	ConversationStarted: reflect.TypeFor[ConversationStartedData](),
	MessageSent:         reflect.TypeFor[MessageSentData](),
	MessageEdited:       reflect.TypeFor[MessageEditedData](),
	MessageUnsent:       reflect.TypeFor[MessageUnsentData](),
	MessageReacted:      reflect.TypeFor[MessageReactedData](),
	MessageRead:         reflect.TypeFor[MessageReadData](),
	CallStarted:         reflect.TypeFor[CallStartedData](),
	CallEnded:           reflect.TypeFor[CallEndedData](),
	ConversationClosed:  reflect.TypeFor[ConversationClosedData](),
	PresenceChanged:     reflect.TypeFor[PresenceChangedData](),
	SettingsChanged:     reflect.TypeFor[SettingsChangedData](),
	PolicyPublished:     reflect.TypeFor[PolicyPublishedData](),
	AccountErased:       reflect.TypeFor[AccountErasedData](),
	ContentExpired:      reflect.TypeFor[ContentExpiredData](),
}
