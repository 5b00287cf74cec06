package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// decodeStrict decodes one JSON object into v, refusing unknown fields,
// trailing data and invalid UTF-8, with an error a person can act on.
func decodeStrict(body []byte, v any) error {
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return badRequest("the request body is empty; send a JSON object")
	}
	if !utf8.Valid(body) {
		return badRequest("the request body is not valid UTF-8")
	}
	if json.Valid(body) {
		if err := exactFieldNames(body, v); err != nil {
			return err
		}
		if r, ok := v.(*convRequest); ok && r.decodePlain(body) {
			return nil
		}
		if fieldsOf(reflect.TypeOf(v).Elem()).flat {
			// One valid JSON value whose keys are all v's own, exactly, in
			// a type with no nested objects: nothing is left for the
			// decoder's unknown-field and trailing-data checks to find.
			if err := json.Unmarshal(body, v); err != nil {
				return badRequest("%s", describeJSONError(err))
			}
			return nil
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("%s", describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("unexpected data after the JSON object")
	}
	return nil
}

func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return fmt.Sprintf("the request must be a JSON object, not a JSON %s", typeErr.Value)
		}
		// Since Go 1.20 the path names embedded structs too
		// (commandEnvelope.command_id); the producer knows only the field.
		field := typeErr.Field[strings.LastIndex(typeErr.Field, ".")+1:]
		return fmt.Sprintf("field %q must be a %s, not a JSON %s", field, jsonKind(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: the object is cut short"
	}
	return "malformed request: " + err.Error()
}

func jsonKind(goType string) string {
	switch goType {
	case "string", "api.Position":
		return "string"
	case "bool", "*bool":
		return "boolean"
	case "[]string":
		return "list of strings"
	}
	return "whole number of at least 0"
}

// origin is where a command came from: the principal that sent it
// (identity.Principal.String(), "" when self-declared) and the trace
// context it carried.
type origin struct {
	principal string
	trace     events.Trace
}

// meta is the domain's view of a command's envelope, sent from o.
func meta(c api.CommandEnvelope, app events.App, o origin) aggregate.Meta {
	return aggregate.Meta{CommandID: c.CommandID, App: app, Actor: events.Account(c.Actor), Principal: o.principal, Trace: o.trace}
}

// convRequest is api.ConversationCommand, the union of the conversation
// commands' fields, with the service's decoding methods; each action takes
// only its own (others are refused by allowedFields).
type convRequest api.ConversationCommand

// conversationAction decodes a conversation command body sent from from.
// It returns the conversation id (empty for a start without
// one) and the domain command.
func conversationAction(action string, app events.App, from origin, body []byte) (string, aggregate.Command, error) {
	var r convRequest
	if err := decodeStrict(body, &r); err != nil {
		return "", nil, err
	}
	if err := r.allowedFields(action); err != nil {
		return "", nil, err
	}
	m := meta(r.CommandEnvelope, app, from)
	if action != api.ActionConversationStart {
		if err := checkConversationID(r.ConversationID); err != nil {
			return "", nil, err
		}
	}
	switch action {
	case api.ActionConversationStart:
		if r.ConversationID != "" && !events.ValidUUID(r.ConversationID) {
			return "", nil, badRequest("conversation_id, when given, must be %s, got %s", events.UUIDForm, events.Quote(r.ConversationID))
		}
		return r.ConversationID, aggregate.StartConversation{Meta: m, Participants: events.AccountsOf(r.Participants)}, nil
	case api.ActionMessageSend:
		return r.ConversationID, aggregate.SendMessage{Meta: m, MessageID: r.MessageID, Text: deref(r.Text)}, nil
	case api.ActionMessageEdit:
		return r.ConversationID, aggregate.EditMessage{Meta: m, MessageID: r.MessageID, Text: deref(r.Text)}, nil
	case api.ActionMessageUnsend:
		return r.ConversationID, aggregate.UnsendMessage{Meta: m, MessageID: r.MessageID}, nil
	case api.ActionMessageReact:
		if r.Reaction == nil {
			return "", nil, badRequest("reaction is required (an empty string removes your reaction)")
		}
		return r.ConversationID, aggregate.ReactToMessage{Meta: m, MessageID: r.MessageID, Reaction: *r.Reaction}, nil
	case api.ActionMessageRead:
		return r.ConversationID, aggregate.ReadMessage{Meta: m, MessageID: r.MessageID}, nil
	case api.ActionCallStart:
		return r.ConversationID, aggregate.StartCall{Meta: m, CallID: r.CallID, Media: r.Media}, nil
	case api.ActionCallEnd:
		return r.ConversationID, aggregate.EndCall{Meta: m, CallID: r.CallID}, nil
	}
	return "", nil, badRequest("unknown action %s", events.Quote(action))
}

// allowedFields refuses fields that belong to another action, so that a
// producer who sends "text" with message.react learns it is ignored.
func (r convRequest) allowedFields(action string) error {
	present := [...]struct {
		name string
		set  bool
	}{
		{"participants", r.Participants != nil}, {"conversation_id", r.ConversationID != ""},
		{"message_id", r.MessageID != ""}, {"text", r.Text != nil}, {"reaction", r.Reaction != nil},
		{"call_id", r.CallID != ""}, {"media", r.Media != ""},
	}
	allowed := api.ActionFields[action]
	for _, f := range present {
		if f.set && !slices.Contains(allowed, f.name) {
			return badRequest("field %q does not belong to %s", f.name, action)
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// accountRequest is api.AccountCommand, the union of the account
// commands' fields.
type accountRequest api.AccountCommand

// accountAction decodes presence.set and settings.set sent from from.
func accountAction(action string, app events.App, from origin, body []byte) (aggregate.Command, error) {
	var r accountRequest
	if err := decodeStrict(body, &r); err != nil {
		return nil, err
	}
	m := meta(r.CommandEnvelope, app, from)
	switch action {
	case api.ActionPresenceSet:
		if r.ShowActivityStatus != nil || r.SendReadReceipts != nil || r.InteropOptIn != nil {
			return nil, badRequest("presence.set takes only status; use settings.set for settings")
		}
		return aggregate.SetPresence{Meta: m, Status: r.Status}, nil
	case api.ActionSettingsSet:
		if r.Status != "" {
			return nil, badRequest("settings.set does not take status; use presence.set")
		}
		return aggregate.ChangeSettings{Meta: m, ShowActivityStatus: r.ShowActivityStatus,
			SendReadReceipts: r.SendReadReceipts, InteropOptIn: r.InteropOptIn}, nil
	}
	return nil, badRequest("unknown action %s", events.Quote(action))
}
