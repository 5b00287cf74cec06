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
	"sync"
	"unicode/utf8"

	"github.com/crosstalk-dev/crosstalk/aggregate"
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
	case "string", "events.Account", "events.App":
		return "string"
	case "bool", "*bool":
		return "boolean"
	case "[]events.Account", "[]string":
		return "list of strings"
	}
	return "whole number of at least 0"
}

// commandEnvelope is the part every command body has.
type commandEnvelope struct {
	CommandID string         `json:"command_id"`
	Actor     events.Account `json:"actor"`
}

func (c commandEnvelope) meta(app events.App) aggregate.Meta {
	return aggregate.Meta{CommandID: c.CommandID, App: app, Actor: c.Actor}
}

// convRequest is the union of the conversation commands' fields; each action
// takes only its own (others are refused by fieldsFor).
type convRequest struct {
	commandEnvelope
	ConversationID string           `json:"conversation_id"`
	Participants   []events.Account `json:"participants"`
	MessageID      string           `json:"message_id"`
	Text           *string          `json:"text"`
	Reaction       *string          `json:"reaction"`
	CallID         string           `json:"call_id"`
	Media          string           `json:"media"`
}

// conversationAction decodes a conversation command body. It returns the
// conversation id (empty for a start without one) and the domain command.
func conversationAction(action string, app events.App, body []byte) (string, any, error) {
	var r convRequest
	if err := decodeStrict(body, &r); err != nil {
		return "", nil, err
	}
	if err := r.allowedFields(action); err != nil {
		return "", nil, err
	}
	m := r.meta(app)
	if action != "conversation.start" && !events.ValidUUID(r.ConversationID) {
		return "", nil, badRequest("conversation_id must be a UUID, got %q", r.ConversationID)
	}
	switch action {
	case "conversation.start":
		if r.ConversationID != "" && !events.ValidUUID(r.ConversationID) {
			return "", nil, badRequest("conversation_id must be a UUID when given, got %q", r.ConversationID)
		}
		return r.ConversationID, aggregate.StartConversation{Meta: m, Participants: r.Participants}, nil
	case "message.send":
		return r.ConversationID, aggregate.SendMessage{Meta: m, MessageID: r.MessageID, Text: deref(r.Text)}, nil
	case "message.edit":
		return r.ConversationID, aggregate.EditMessage{Meta: m, MessageID: r.MessageID, Text: deref(r.Text)}, nil
	case "message.unsend":
		return r.ConversationID, aggregate.UnsendMessage{Meta: m, MessageID: r.MessageID}, nil
	case "message.react":
		if r.Reaction == nil {
			return "", nil, badRequest("reaction is required (an empty string removes your reaction)")
		}
		return r.ConversationID, aggregate.ReactToMessage{Meta: m, MessageID: r.MessageID, Reaction: *r.Reaction}, nil
	case "message.read":
		return r.ConversationID, aggregate.ReadMessage{Meta: m, MessageID: r.MessageID}, nil
	case "call.start":
		return r.ConversationID, aggregate.StartCall{Meta: m, CallID: r.CallID, Media: r.Media}, nil
	case "call.end":
		return r.ConversationID, aggregate.EndCall{Meta: m, CallID: r.CallID}, nil
	}
	return "", nil, badRequest("unknown action %q", action)
}

// decodePlain decodes body into r as json.Unmarshal would when every value
// is null, a string without escapes or a list of such strings, which is
// what producers send; otherwise it changes nothing and reports false.
// body is valid JSON, an object whose keys are all r's own, exactly.
func (r *convRequest) decodePlain(body []byte) bool {
	d := *r
	p := plainScanner{b: body}
	if !p.byte('{') {
		return false
	}
	for !p.byte('}') {
		p.byte(',')
		key, ok := p.str()
		if !ok || !p.byte(':') || !d.setPlain(key, &p) {
			return false
		}
	}
	*r = d
	return true
}

// setPlain decodes the value of field key from p.
func (r *convRequest) setPlain(key string, p *plainScanner) bool {
	if key == "participants" {
		list, ok := p.list()
		r.Participants = list
		return ok
	}
	isNull := p.null()
	var v string
	if !isNull {
		var ok bool
		if v, ok = p.str(); !ok {
			return false
		}
	}
	switch key {
	case "text", "reaction":
		ptr := &r.Text
		if key == "reaction" {
			ptr = &r.Reaction
		}
		*ptr = nil // null clears a pointer
		if !isNull {
			*ptr = &v
		}
		return true
	}
	if isNull {
		return true // null leaves a string as it is
	}
	switch key {
	case "command_id":
		r.CommandID = v
	case "actor":
		r.Actor = events.Account(v)
	case "conversation_id":
		r.ConversationID = v
	case "message_id":
		r.MessageID = v
	case "call_id":
		r.CallID = v
	case "media":
		r.Media = v
	default:
		return false
	}
	return true
}

// plainScanner reads the few JSON shapes decodePlain accepts from valid
// JSON.
type plainScanner struct {
	b []byte
	i int
}

func (p *plainScanner) skipSpace() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

// byte consumes c if it comes next.
func (p *plainScanner) byte(c byte) bool {
	p.skipSpace()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// null consumes a null if it comes next.
func (p *plainScanner) null() bool {
	p.skipSpace()
	if bytes.HasPrefix(p.b[p.i:], []byte("null")) {
		p.i += 4
		return true
	}
	return false
}

// str consumes a string without escapes.
func (p *plainScanner) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	end := bytes.IndexByte(p.b[p.i:], '"')
	if end < 0 || bytes.IndexByte(p.b[p.i:p.i+end], '\\') >= 0 {
		return "", false
	}
	s := string(p.b[p.i : p.i+end])
	p.i += end + 1
	return s, true
}

// list consumes null or a list of strings without escapes.
func (p *plainScanner) list() ([]events.Account, bool) {
	if p.null() {
		return nil, true
	}
	if !p.byte('[') {
		return nil, false
	}
	list := []events.Account{}
	for !p.byte(']') {
		if len(list) > 0 && !p.byte(',') {
			return nil, false
		}
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		list = append(list, events.Account(s))
	}
	return list, true
}

// actionFields lists, per action, the fields beyond command_id and actor.
var actionFields = map[string][]string{
	"conversation.start": {"participants", "conversation_id"},
	"message.send":       {"conversation_id", "text", "message_id"},
	"message.edit":       {"conversation_id", "message_id", "text"},
	"message.unsend":     {"conversation_id", "message_id"},
	"message.react":      {"conversation_id", "message_id", "reaction"},
	"message.read":       {"conversation_id", "message_id"},
	"call.start":         {"conversation_id", "media", "call_id"},
	"call.end":           {"conversation_id", "call_id"},
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
	allowed := actionFields[action]
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

// accountRequest is the union of the account commands' fields.
type accountRequest struct {
	commandEnvelope
	Status             string `json:"status"`
	ShowActivityStatus *bool  `json:"show_activity_status"`
	SendReadReceipts   *bool  `json:"send_read_receipts"`
	InteropOptIn       *bool  `json:"interop_opt_in"`
}

// accountAction decodes presence.set and settings.set.
func accountAction(action string, app events.App, body []byte) (any, error) {
	var r accountRequest
	if err := decodeStrict(body, &r); err != nil {
		return nil, err
	}
	m := r.meta(app)
	switch action {
	case "presence.set":
		if r.ShowActivityStatus != nil || r.SendReadReceipts != nil || r.InteropOptIn != nil {
			return nil, badRequest("presence.set takes only status; use settings.set for settings")
		}
		return aggregate.SetPresence{Meta: m, Status: r.Status}, nil
	case "settings.set":
		if r.Status != "" {
			return nil, badRequest("settings.set does not take status; use presence.set")
		}
		return aggregate.ChangeSettings{Meta: m, ShowActivityStatus: r.ShowActivityStatus,
			SendReadReceipts: r.SendReadReceipts, InteropOptIn: r.InteropOptIn}, nil
	}
	return nil, badRequest("unknown action %q", action)
}

// exactFieldNames refuses a field whose name matches one of v's only when
// case is ignored ("Text" for "text"): encoding/json would accept it, and a
// producer's typo must not pass. body is valid JSON; if it is not an object
// it is left to the decoder's own error.
func exactFieldNames(body []byte, v any) error {
	known := fieldsOf(reflect.TypeOf(v).Elem()).names
	check := func(name []byte) error {
		if !known[string(name)] {
			return badRequest("unknown field %q (field names are lower case, as in the contract)", name)
		}
		return nil
	}
	plain, err := eachKey(body, check)
	if plain {
		return err
	}
	// A key with escapes: let encoding/json unescape them.
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return nil
	}
	for name := range fields {
		if err := check([]byte(name)); err != nil {
			return err
		}
	}
	return nil
}

// eachKey calls fn with each key of body's top-level object, in order, until
// fn fails, without decoding the values: it is on every command's path.
// body must be valid JSON; if it is not an object there is nothing to call.
// It stops and reports false at the first key with an escape, which fn must
// then be given unescaped.
func eachKey(body []byte, fn func([]byte) error) (bool, error) {
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return true, nil
	}
	depth, keyNext := 0, false
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{', '[':
			depth++
			keyNext = depth == 1
		case '}', ']':
			depth--
		case ',':
			keyNext = depth == 1
		case '"':
			end := stringEnd(body, i)
			if keyNext {
				if bytes.IndexByte(body[i+1:end], '\\') >= 0 {
					return false, nil
				}
				if err := fn(body[i+1 : end]); err != nil {
					return true, err
				}
				keyNext = false
			}
			i = end
		}
	}
	return true, nil
}

// stringEnd returns the index of the quote that closes the JSON string
// opening at body[start].
func stringEnd(body []byte, start int) int {
	i := start + 1
	for body[i] != '"' {
		if body[i] == '\\' {
			i++
		}
		i++
	}
	return i
}

// requestFields is what decodeStrict needs to know of a request type.
type requestFields struct {
	names map[string]bool // its JSON field names, embedded structs' included
	flat  bool            // no field holds an object (a struct, map or interface)
}

// fieldsByType caches requestFields per request type (reflect.Type keys).
var fieldsByType sync.Map

// fieldsOf returns the requestFields of struct type t, computed once.
func fieldsOf(t reflect.Type) requestFields {
	if f, ok := fieldsByType.Load(t); ok {
		return f.(requestFields)
	}
	f := requestFields{names: map[string]bool{}, flat: true}
	f.add(t)
	fieldsByType.Store(t, f)
	return f
}

func (rf *requestFields) add(t reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			rf.add(f.Type)
			continue
		}
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" && tag != "-" {
			rf.names[tag] = true
		}
		rf.flat = rf.flat && !holdsObject(f.Type)
	}
}

// holdsObject reports whether a value of t can hold a JSON object, in whose
// keys the decoder would look for unknown fields too.
func holdsObject(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Interface:
		return true
	}
	return false
}
