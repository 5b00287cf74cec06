package views

import (
	"fmt"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// item is the export item of the stored event v at hist/ key k on
// subject, and false for one the account may not see (another
// participant's read marker).
func (x *exporter) item(subject string, k, v []byte) (api.ExportItem, bool, error) {
	_, seq, _ := parseHistKey(k)
	e, err := events.Decode(v)
	if err != nil {
		return api.ExportItem{}, false, fmt.Errorf("export: decode %q: %w", k, err)
	}
	info, ok := events.Lookup(e.Type)
	if !ok {
		return api.ExportItem{}, false, nil // not history: nothing the account wrote or sees
	}
	data := info.New()
	if err := e.DecodeData(data); err != nil {
		return api.ExportItem{}, false, fmt.Errorf("export: decode %q: %w", k, err)
	}
	if r, ok := data.(*events.MessageReadData); ok && r.Account != x.account {
		return api.ExportItem{}, false, nil
	}
	item := api.ExportItem{Seq: seq, EventID: e.ID, Type: string(e.Type), Time: e.Time,
		Actor: data.Actor(), PolicyVersion: e.PolicyVersion}
	kind, key := events.ClassifySubject(subject)
	if kind == events.SubjectConversation {
		item.ConversationID = key
		if item.Erased, err = x.open(key, e, seq, data); err != nil {
			return api.ExportItem{}, false, err
		}
	}
	item.Data, err = json.Marshal(data)
	return item, true, err
}

// open replaces the sealed text or reaction of a conversation event's data
// by what it opens to, or by "" and the erasure that took it.
func (x *exporter) open(conv string, e events.Event, seq uint64, data events.Payload) (*api.Erasure, error) {
	var text, sealed *string
	var by events.Account
	switch d := data.(type) {
	case *events.MessageSentData:
		text, sealed, by = &d.Text, &d.Sealed, d.Sender
	case *events.MessageEditedData:
		text, sealed, by = &d.Text, &d.Sealed, d.Editor
	case *events.MessageReactedData:
		text, sealed, by = &d.Reaction, &d.Sealed, d.Account
	default:
		return nil, nil
	}
	msgID, _ := data.IDs()
	if unsent, err := x.unsent(conv, msgID); unsent != nil || err != nil {
		*text, *sealed = "", ""
		return unsent, err
	}
	c, err := conversation(x.r, conv)
	if err != nil {
		return nil, err
	}
	p := &opening{ctx: x.ctx, o: x.o, conv: conv, expiry: c.Expired, erased: x.erased}
	opened, erased, err := p.open(by, Content(*text, *sealed, e, seq), seq)
	*text, *sealed = opened, ""
	return erased, err
}

// unsent is the erasure of message id of conv if it was unsent.
func (x *exporter) unsent(conv, id string) (*api.Erasure, error) {
	seq, found, err := GetUint(x.r, MsgIDKey(conv, id))
	if err != nil || !found {
		return nil, err
	}
	var m api.MessageView
	if _, err := GetJSON(x.r, MsgKey(conv, seq), &m); err != nil {
		return nil, err
	}
	if m.Unsent {
		return cmpOr(m.Erased, &api.Erasure{Reason: api.ErasedUnsent}), nil // unsent before views kept who and when
	}
	return nil, nil
}

// cmpOr is a if set, else b.
func cmpOr(a, b *api.Erasure) *api.Erasure {
	if a != nil {
		return a
	}
	return b
}
