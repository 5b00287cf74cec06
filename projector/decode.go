package projector

import (
	"fmt"

	"github.com/crosstalk-dev/crosstalk/events"
)

// decoded is a log message ready to apply: its envelope, its typed payload,
// and which aggregate it belongs to according to its stream subject.
type decoded struct {
	seq   uint64
	event events.Event
	data  events.Payload // a pointer to the events.*Data type of event.Type
	kind  events.SubjectKind
	key   string // conversation id, account, or "" for the policy subject
	// stored is the message's bytes: a conversation's record keeps their
	// events.Hash (the closer's prevhash) if this is its last event.
	stored  []byte
	subject string
}

// decodeMessage decodes the envelope and the payload before anything is
// written, so that a message that fails is poison as a whole and never
// leaves half its changes in the batch.
func decodeMessage(m events.Message) (decoded, error) {
	e, err := events.Decode(m.Data)
	if err != nil {
		return decoded{}, err
	}
	info, ok := events.Lookup(e.Type)
	if !ok {
		return decoded{}, fmt.Errorf("%w: the projector has no view for type %s", events.ErrMalformedEvent, events.Quote(string(e.Type)))
	}
	kind, key := events.ClassifySubject(m.Subject)
	if kind != info.Subject {
		return decoded{}, fmt.Errorf("%w: %s does not belong on subject %q", events.ErrMalformedEvent, e.Type, m.Subject)
	}
	data := info.New()
	if err := e.DecodeData(data); err != nil {
		return decoded{}, err
	}
	return decoded{seq: m.Seq, event: e, data: data, kind: kind, key: key, stored: m.Data, subject: m.Subject}, nil
}
