package events

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	fastjson "github.com/goccy/go-json"
	"time"
	"unicode/utf8"

	"github.com/crosstalk-dev/crosstalk/jsonenc"
)

// ErrMalformedEvent reports bytes that are not a crosstalk CloudEvent.
var ErrMalformedEvent = errors.New("malformed event")

// Envelope constants of every crosstalk event.
const (
	SpecVersion     = "1.0"
	Source          = "crosstalk"
	DataContentType = "application/json"
)

// Event is one CloudEvents 1.0 event in structured JSON mode, as stored in
// the CROSSTALK stream. Data holds the type-specific payload as raw JSON so
// that an event read from the log re-encodes to the same bytes.
//
// Payload is the typed value that New marshalled into Data (for example a
// MessageSentData), so that the command path can fold the event it just
// decided and answer with its ids without parsing Data again. It is never
// encoded, and an event decoded from bytes has none: DataOf falls back to
// Data then. Whoever changes Data after New must clear Payload.
type Event struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            Type      `json:"type"`
	Subject         string    `json:"subject"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	CausationID     string    `json:"causationid"`
	// Principal is the CloudEvents extension naming who the NATS server
	// authenticated as the event's cause (identity.Principal.String():
	// "instagram/instagram:alice", "ADMIN/admin", "service"). It is empty,
	// and then absent from the JSON, in development mode, where identities
	// are self-declared; so events written before it existed, and their
	// chain hashes, are unchanged.
	Principal string `json:"principal,omitempty"`
	// TraceParent and TraceState are the CloudEvents distributed-tracing
	// extension: the W3C trace context (traceparent, tracestate) of the
	// command that caused the event, so a producer's trace continues into
	// the log. Empty, and then absent from the JSON, when the command
	// carried none; so events written before they existed, and their chain
	// hashes, are unchanged.
	TraceParent   string          `json:"traceparent,omitempty"`
	TraceState    string          `json:"tracestate,omitempty"`
	PolicyVersion uint64          `json:"policyversion"`
	StreamVersion uint64          `json:"streamversion"`
	PrevHash      string          `json:"prevhash"`
	Data          json.RawMessage `json:"data"`
	Payload       any             `json:"-"`
}

// Trace is a W3C trace context as the envelope carries it: the
// traceparent and tracestate values, "" when absent.
type Trace struct {
	Parent string
	State  string
}

// SetTrace records t as the event's distributed-tracing extension.
func (e *Event) SetTrace(t Trace) { e.TraceParent, e.TraceState = t.Parent, t.State }

// New builds an event of type t with the envelope constants filled in and
// data marshalled. The caller sets the chain fields (StreamVersion, PrevHash).
func New(t Type, subject string, now time.Time, causation string, policyVersion uint64, data any) (Event, error) {
	raw, err := marshalData(data)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s data: %w", t, err)
	}
	return Event{
		SpecVersion:     SpecVersion,
		Source:          Source,
		Type:            t,
		Subject:         subject,
		Time:            now.UTC(),
		DataContentType: DataContentType,
		CausationID:     causation,
		PolicyVersion:   policyVersion,
		Data:            raw,
		Payload:         data,
	}, nil
}

// Encode returns the event's stored bytes: exactly what json.Marshal(e)
// returns (the stored events, and so their chain hashes, depend on it), but
// written by hand where it can be (see appendEvent).
func Encode(e Event) ([]byte, error) {
	if b, ok := appendEvent(make([]byte, 0, encodedSize(e)), e); ok {
		return b, nil
	}
	return json.Marshal(e)
}

// Decode parses stored bytes, upcasts an older schema version to the
// current one (see RegisterUpcaster), and checks the envelope: spec version,
// source, a known type and an id. Unknown fields are ignored so that a newer writer's
// additions do not break an older reader.
//
// It decodes with goccy/go-json, several times faster than encoding/json,
// after a validity check with encoding/json.Valid's answer (jsonenc.Valid; goccy
// does not validate the values of fields it skips) and only valid UTF-8 (which encoding/json would change):
// what is a well-formed event, and what it says, is exactly what
// encoding/json made of it (FuzzDecodeMatchesEncodingJSON).
func Decode(b []byte) (Event, error) {
	var e Event
	if !jsonenc.Valid(b) || !utf8.Valid(b) {
		// Refused, or (invalid UTF-8, which goccy keeps and encoding/json
		// replaces) decoded, exactly as encoding/json does.
		if err := json.Unmarshal(b, &e); err != nil {
			return Event{}, fmt.Errorf("%w: %v", ErrMalformedEvent, err)
		}
	} else if err := fastjson.Unmarshal(b, &e); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrMalformedEvent, err)
	}
	if e.SpecVersion != SpecVersion || e.Source != Source || e.ID == "" {
		return Event{}, fmt.Errorf("%w: not a crosstalk CloudEvent (specversion %s, source %s)",
			ErrMalformedEvent, Quote(e.SpecVersion), Quote(e.Source))
	}
	e, err := upcast(e)
	if err != nil {
		return Event{}, err
	}
	if !knownType(e.Type) {
		return Event{}, fmt.Errorf("%w: unknown type %s", ErrMalformedEvent, Quote(string(e.Type)))
	}
	return e, nil
}

func knownType(t Type) bool {
	_, ok := Lookup(t)
	return ok || t == CommandRejected
}

// DecodeData unmarshals the event's payload into v, which must be a pointer
// to the data type matching e.Type.
func (e Event) DecodeData(v any) error {
	unmarshal := fastjson.Unmarshal
	if !utf8.Valid(e.Data) {
		unmarshal = json.Unmarshal // which replaces invalid UTF-8, as it always did
	}
	if err := unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("%w: %s data: %v", ErrMalformedEvent, e.Type, err)
	}
	return nil
}

// DataOf returns the event's payload as a T, the data type matching e.Type:
// the typed Payload when the event was built by New with a T, otherwise Data
// decoded as DecodeData does.
func DataOf[T any](e Event) (T, error) {
	if d, ok := e.Payload.(T); ok {
		return d, nil
	}
	var d T
	err := e.DecodeData(&d)
	return d, err
}

// Hash is the chain hash of stored event bytes: hex sha256. The next event on
// the same subject carries it as PrevHash.
func Hash(stored []byte) string {
	sum := sha256.Sum256(stored)
	return hex.EncodeToString(sum[:])
}

// Recorded is an event as the log holds it: its stream sequence, the chain
// hash of its stored bytes, and the decoded envelope.
type Recorded struct {
	Seq   uint64
	Hash  string
	Event Event
}

// Record decodes stored bytes read at stream sequence seq.
func Record(seq uint64, stored []byte) (Recorded, error) {
	e, err := Decode(stored)
	if err != nil {
		return Recorded{}, err
	}
	return Recorded{Seq: seq, Hash: Hash(stored), Event: e}, nil
}

// Message is one message of the log as the broker holds it: its stream
// sequence, its stream subject, the stored event bytes, and the value of
// its SignatureHeader ("" when it has none).
type Message struct {
	Seq       uint64
	Subject   string
	Data      []byte
	Signature string
}
