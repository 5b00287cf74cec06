package service

import (
	"encoding/json"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
)

// RejectionRecorder keeps evidence of rejected commands: the stream
// eventlog.Rejections. Record must not block: it is called on the command
// path.
type RejectionRecorder interface {
	Record(subject string, data []byte)
}

// recordRejection appends a command.rejected record for a 403 decision.
// Garbage (400) is not recorded: it says nothing about what anyone tried.
// The record's principal extension names the principal refused, and its
// distributed-tracing extension the trace context tr of the request.
func (s *Service) recordRejection(by identity.Principal, tr events.Trace, app events.App, action string, body []byte, err error) {
	status, code := classify(err)
	if s.opts.Rejections == nil || status != "403" {
		return
	}
	var req struct {
		CommandID      string           `json:"command_id"`
		Actor          events.Account   `json:"actor"`
		ConversationID string           `json:"conversation_id"`
		Participants   []events.Account `json:"participants"`
	}
	_ = json.Unmarshal(body, &req) // it decoded once already, or it would be a 400
	now := s.opts.Clock.Now()
	p := s.policyAt(now)
	data := events.CommandRejectedData{
		App: app, Action: action, Actor: req.Actor, CommandID: req.CommandID,
		ConversationID: req.ConversationID, Participants: req.Participants,
		Code: code, Message: err.Error(), PolicyVersion: p.VersionOf(),
	}
	e, encErr := events.New(events.CommandRejected, string(req.Actor), now, req.CommandID, p.VersionOf(), data)
	if encErr != nil {
		return
	}
	e.ID = events.DerivedID(now, events.CommandKey(app, req.CommandID)+"\x00rejected")
	e.Principal = by.String()
	e.SetTrace(tr)
	if b, encErr := events.Encode(e); encErr == nil {
		s.opts.Rejections.Record(events.RejectedSubject(app, code), b)
	}
}
