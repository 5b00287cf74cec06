package codec

import (
	"slices"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Origin is where a command came from: the principal that sent it
// (identity.Principal.String(), "" when self-declared) and the trace
// context it carried.
type Origin struct {
	Principal string
	Trace     events.Trace
}

// meta is the domain's view of a command's envelope, sent from o.
func meta(c api.CommandEnvelope, app events.App, o Origin) aggregate.Meta {
	return aggregate.Meta{CommandID: c.CommandID, App: app, Actor: events.Account(c.Actor), Principal: o.Principal, Trace: o.Trace}
}

// convRequest is api.ConversationCommand, the union of the conversation
// commands' fields, with the codec's decoding methods; each action takes
// only its own (others are refused by allowedFields).
type convRequest api.ConversationCommand

// ConversationCommand decodes the body of a conversation command (one of
// api.ConversationActions) sent on app's subject from from. It returns the
// conversation id (empty for a start without one) and the domain command,
// or an error wrapping ErrBadRequest.
func ConversationCommand(action string, app events.App, from Origin, body []byte) (string, aggregate.Command, error) {
	var r convRequest
	if err := Decode(body, &r); err != nil {
		return "", nil, err
	}
	if err := r.allowedFields(action); err != nil {
		return "", nil, err
	}
	m := meta(r.CommandEnvelope, app, from)
	if action != api.ActionConversationStart {
		if err := CheckUUID("conversation_id", r.ConversationID); err != nil {
			return "", nil, err
		}
	}
	switch action {
	case api.ActionConversationStart:
		if r.ConversationID != "" && !events.ValidUUID(r.ConversationID) {
			return "", nil, BadRequest("conversation_id, when given, must be %s, got %s", events.UUIDForm, events.Quote(r.ConversationID))
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
			return "", nil, BadRequest("reaction is required (an empty string removes your reaction)")
		}
		return r.ConversationID, aggregate.ReactToMessage{Meta: m, MessageID: r.MessageID, Reaction: *r.Reaction}, nil
	case api.ActionMessageRead:
		return r.ConversationID, aggregate.ReadMessage{Meta: m, MessageID: r.MessageID}, nil
	case api.ActionCallStart:
		return r.ConversationID, aggregate.StartCall{Meta: m, CallID: r.CallID, Media: r.Media}, nil
	case api.ActionCallEnd:
		return r.ConversationID, aggregate.EndCall{Meta: m, CallID: r.CallID}, nil
	}
	return "", nil, BadRequest("unknown action %s", events.Quote(action))
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
			return BadRequest("field %q does not belong to %s", f.name, action)
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

// AccountCommand decodes the body of presence.set, settings.set or
// account.erase sent on
// app's subject from from into the domain command, or an error wrapping
// ErrBadRequest.
func AccountCommand(action string, app events.App, from Origin, body []byte) (aggregate.Command, error) {
	var r accountRequest
	if err := Decode(body, &r); err != nil {
		return nil, err
	}
	m := meta(r.CommandEnvelope, app, from)
	switch action {
	case api.ActionPresenceSet:
		if r.ShowActivityStatus != nil || r.SendReadReceipts != nil || r.InteropOptIn != nil {
			return nil, BadRequest("presence.set takes only status; use settings.set for settings")
		}
		return aggregate.SetPresence{Meta: m, Status: r.Status}, nil
	case api.ActionSettingsSet:
		if r.Status != "" {
			return nil, BadRequest("settings.set does not take status; use presence.set")
		}
		return aggregate.ChangeSettings{Meta: m, ShowActivityStatus: r.ShowActivityStatus,
			SendReadReceipts: r.SendReadReceipts, InteropOptIn: r.InteropOptIn}, nil
	case api.ActionAccountErase:
		if r.Status != "" || r.ShowActivityStatus != nil || r.SendReadReceipts != nil || r.InteropOptIn != nil {
			return nil, BadRequest("account.erase takes only command_id and actor")
		}
		return aggregate.EraseAccount{Meta: m}, nil
	}
	return nil, BadRequest("unknown action %s", events.Quote(action))
}

// CheckUUID refuses, wrapping ErrBadRequest, an id field that is not in
// the one canonical form every id of the contract takes (events.ValidUUID).
func CheckUUID(field, id string) error {
	if !events.ValidUUID(id) {
		return BadRequest("%s must be %s, got %s", field, events.UUIDForm, events.Quote(id))
	}
	return nil
}
