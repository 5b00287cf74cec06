package aggregate

import (
	"encoding/json"

	"github.com/crosstalk-dev/crosstalk/events"
)

// This file maps the testdata words to events (given lines) and commands
// (when lines).

// conversationEvent builds a given conversation event:
//
//	started participants=(a, b) [by=a] [cross_app=bool]
//	sent by=a msg=m1 [text=...]     edited by=a msg=m1 [text=...]
//	unsent by=a msg=m1              reacted by=a msg=m1 reaction=x
//	read by=a msg=m1                closed policy_version=N [reason=policy]
//	expired through=N [before=T] [policy_version=N]
//	call-started by=a call=c1 [media=audio]    call-ended by=a call=c1
//
// Every given line also takes cmd=K (its causation id) and pv=N (its
// policyversion).
func (s *scenario) conversationEvent(l *line) (events.Type, any) {
	by := events.Account(l.str("by", ""))
	msg := s.names.id(l.str("msg", ""))
	switch l.verb {
	case "started":
		parts := accounts(l.list("participants"))
		if by == "" && len(parts) > 0 {
			by = parts[0]
		}
		cross := len(events.AppsOf(parts)) > 1
		if b := l.optBool("cross_app"); b != nil {
			cross = *b
		}
		return events.ConversationStarted, events.ConversationStartedData{
			ConversationID: convID, StartedBy: by, Participants: parts, CrossApp: cross}
	case "sent":
		return events.MessageSent, events.MessageSentData{MessageID: msg, Sender: by, Text: l.str("text", "hello")}
	case "edited":
		return events.MessageEdited, events.MessageEditedData{MessageID: msg, Editor: by, Text: l.str("text", "edited")}
	case "unsent":
		return events.MessageUnsent, events.MessageUnsentData{MessageID: msg, By: by}
	case "reacted":
		return events.MessageReacted, events.MessageReactedData{MessageID: msg, Account: by, Reaction: l.str("reaction", "")}
	case "read":
		return events.MessageRead, events.MessageReadData{MessageID: msg, Account: by}
	case "call-started":
		return events.CallStarted, events.CallStartedData{CallID: s.names.id(l.str("call", "")), By: by, Media: l.str("media", "audio")}
	case "call-ended":
		return events.CallEnded, events.CallEndedData{CallID: s.names.id(l.str("call", "")), By: by}
	case "closed":
		return events.ConversationClosed, events.ConversationClosedData{
			Reason: l.str("reason", events.ClosedByPolicy), PolicyVersion: l.uint("policy_version", 0)}
	case "expired":
		return events.ContentExpired, events.ContentExpiredData{Through: uint32(l.uint("through", 0)),
			Before: mustTime(s.t, l.str("before", "2024-01-01T00:00:00Z")), PolicyVersion: l.uint("policy_version", 0)}
	}
	s.t.Fatalf("%s: unknown conversation event %q", s.pos, l.verb)
	return "", nil
}

// accountEvent builds a given account event:
//
//	presence status=S
//	settings [show_activity_status=bool] [send_read_receipts=bool]  (default true)
//	erased
func (s *scenario) accountEvent(l *line) (events.Type, any) {
	name := events.Account(s.subject)
	switch l.verb {
	case "presence":
		return events.PresenceChanged, events.PresenceChangedData{Account: name, Status: l.str("status", events.StatusActive)}
	case "settings":
		d := events.SettingsChangedData{Account: name, ShowActivityStatus: true, SendReadReceipts: true}
		if b := l.optBool("show_activity_status"); b != nil {
			d.ShowActivityStatus = *b
		}
		if b := l.optBool("send_read_receipts"); b != nil {
			d.SendReadReceipts = *b
		}
		return events.SettingsChanged, d
	case "erased":
		return events.AccountErased, events.AccountErasedData{Account: name, By: name}
	}
	s.t.Fatalf("%s: unknown account event %q", s.pos, l.verb)
	return "", nil
}

// cause reads cmd=K (default "cmd") as the command id the decided event
// must carry as its causationid.
func (s *scenario) cause(l *line) string {
	s.wantCause = s.names.id(l.str("cmd", "cmd"))
	return s.wantCause
}

// meta reads by=ACCOUNT [app=APP] [cmd=K]; app defaults to the actor's app.
func (s *scenario) meta(l *line) Meta {
	actor := events.Account(l.str("by", ""))
	return Meta{CommandID: s.cause(l), App: events.App(l.str("app", string(actor.App()))), Actor: actor}
}

// conversationCommand builds a when command:
//
//	start by=a with=(b, ...)     send by=a [msg=m1] [text=...]
//	edit by=a msg=m1 [text=...]  unsend by=a msg=m1
//	react by=a msg=m1 [reaction=x]   read by=a msg=m1
//	call by=a [call=c1] [media=audio]  end-call by=a call=c1
//	close policy=R [reason=...] [cmd=K]
//	expire through=N [before=T] [policy_version=N] [cmd=K]
//	presence by=a status=S  (an account command, to check it is refused)
func (s *scenario) conversationCommand(l *line) Command {
	msg := s.names.id(l.str("msg", ""))
	call := s.names.id(l.str("call", ""))
	switch l.verb {
	case "start":
		return StartConversation{Meta: s.meta(l), Participants: accounts(l.list("with"))}
	case "send":
		return SendMessage{Meta: s.meta(l), MessageID: msg, Text: l.str("text", "hello")}
	case "edit":
		return EditMessage{Meta: s.meta(l), MessageID: msg, Text: l.str("text", "edited")}
	case "unsend":
		return UnsendMessage{Meta: s.meta(l), MessageID: msg}
	case "react":
		return ReactToMessage{Meta: s.meta(l), MessageID: msg, Reaction: l.str("reaction", "")}
	case "read":
		return ReadMessage{Meta: s.meta(l), MessageID: msg}
	case "call":
		return StartCall{Meta: s.meta(l), CallID: call, Media: l.str("media", "audio")}
	case "end-call":
		return EndCall{Meta: s.meta(l), CallID: call}
	case "close":
		p := s.drv.policy(s.t, l.str("policy", "none"))
		s.wantPV = p.VersionOf()
		return Close{CommandID: s.cause(l), Policy: p}
	case "expire":
		s.wantPV = l.uint("policy_version", 0)
		return ExpireContent{CommandID: s.cause(l), Through: uint32(l.uint("through", 0)),
			Before: mustTime(s.t, l.str("before", "2024-01-01T00:00:00Z")), PolicyVersion: s.wantPV}
	case "presence":
		return SetPresence{Meta: s.meta(l), Status: l.str("status", events.StatusActive)}
	}
	s.t.Fatalf("%s: unknown conversation command %q", s.pos, l.verb)
	return nil
}

// accountCommand builds a when command:
//
//	presence by=a status=S
//	settings by=a [show_activity_status=bool] [send_read_receipts=bool]
//	send by=a  (a conversation command, to check it is refused)
//	erase by=a
func (s *scenario) accountCommand(l *line) Command {
	switch l.verb {
	case "presence":
		return SetPresence{Meta: s.meta(l), Status: l.str("status", "")}
	case "settings":
		return ChangeSettings{Meta: s.meta(l),
			ShowActivityStatus: l.optBool("show_activity_status"), SendReadReceipts: l.optBool("send_read_receipts")}
	case "send":
		return SendMessage{Meta: s.meta(l), Text: "hello"}
	case "erase":
		return EraseAccount{Meta: s.meta(l)}
	}
	s.t.Fatalf("%s: unknown account command %q", s.pos, l.verb)
	return nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
