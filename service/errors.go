package service

import (
	"encoding/json"
	"errors"
	"github.com/crosstalk-dev/crosstalk/rpc"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/codec"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/readmodel"
)

// Errors of the service itself, beside the domain's.
var (
	// ErrBadRequest reports a request body that is not the endpoint's JSON;
	// it is codec.ErrBadRequest, which the request codec wraps.
	ErrBadRequest = codec.ErrBadRequest
	// ErrConflict reports a command that still conflicted after every retry.
	ErrConflict = errors.New("conflict")
	// ErrNotCaughtUp reports a query whose min_seq the read model did not
	// reach in time; it is readmodel.ErrNotCaughtUp, which the waits wrap.
	ErrNotCaughtUp = readmodel.ErrNotCaughtUp
	// ErrUnavailable reports a command that the log did not acknowledge
	// within Options.AppendTimeout.
	ErrUnavailable = errors.New("unavailable")
	// ErrUnknownAccount reports a query about an account with no events.
	ErrUnknownAccount = errors.New("unknown account")
	// ErrNoOutcome reports a command id whose intake outcome is not known.
	ErrNoOutcome = errors.New("no outcome known")
)

// wireError maps errors to one of the contract's codes; api.StatusOf gives
// the micro status code it travels with.
type wireError struct {
	code string
	errs []error
}

// wireErrors is the one table from errors to the contract's codes. The first
// row that matches (errors.Is) wins; anything else is internal.
var wireErrors = []wireError{
	{api.CodeInvalidRequest, []error{aggregate.ErrInvalid, ErrBadRequest, ErrTooLarge, ErrNoViews}},
	{api.CodeWrongApp, []error{aggregate.ErrWrongApp, identity.ErrWrongApp}},
	{api.CodeForbidden, []error{identity.ErrForbidden}},
	{api.CodeInvalidPolicy, []error{aggregate.ErrInvalidPolicy}},
	{api.CodeNotParticipant, []error{aggregate.ErrNotParticipant, projector.ErrNotParticipant}},
	{api.CodeNotSender, []error{aggregate.ErrNotSender}},
	{api.CodeConversationClosed, []error{aggregate.ErrConversationClosed}},
	{api.CodeCrossAppNotAllowed, []error{aggregate.ErrCrossAppNotAllowed}},
	{api.CodeCallNotAllowed, []error{aggregate.ErrCallNotAllowed}},
	{api.CodeConversationNotFound, []error{aggregate.ErrConversationNotFound, projector.ErrConversationNotFound}},
	{api.CodeMessageNotFound, []error{aggregate.ErrMessageNotFound, aggregate.ErrMessageUnsent, ErrContentErased}},
	{api.CodeCallNotFound, []error{aggregate.ErrCallNotFound}},
	{api.CodeAccountNotFound, []error{ErrUnknownAccount, projector.ErrUnknownAccount}},
	{api.CodeNotFound, []error{ErrNoOutcome}},
	{api.CodeConflict, []error{ErrConflict, aggregate.ErrConversationExists, aggregate.ErrMessageExists}},
	{api.CodePolicyVersionConflict, []error{aggregate.ErrPolicyVersionConflict}},
	{api.CodeCommandIDReused, []error{aggregate.ErrCommandIDReused}},
	{api.CodeNotCaughtUp, []error{ErrNotCaughtUp}},
	{api.CodeTooManyRequests, []error{ErrTooManyRequests}},
	{api.CodeStreamMisconfigured, []error{eventlog.ErrStreamMisconfigured}},
	{api.CodeUnavailable, []error{ErrUnavailable, eventlog.ErrUnavailable}},
}

func classify(err error) (status, code string) {
	code = api.CodeInternal
	if e := (*api.Error)(nil); errors.As(err, &e) && e.Code != "" {
		return api.StatusOf(e.Code), e.Code // refused already, as the intake refuses a bad message
	}
	for _, w := range wireErrors {
		if matchesAny(err, w.errs) {
			code = w.code
			break
		}
	}
	return api.StatusOf(code), code
}

func matchesAny(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// encodeError returns the status, code and JSON body for err.
func encodeError(err error, policyVersion uint64) (status, code string, body []byte) {
	e := wireErrorOf(err, policyVersion)
	body, _ = json.Marshal(api.ErrorBody{Error: e})
	return e.Status, e.Code, body
}

// wireErrorOf is err as the contract's refusal. Internal errors get a
// generic sentence: their detail goes to the log, not the wire.
func wireErrorOf(err error, policyVersion uint64) api.Error {
	status, code := classify(err)
	msg := err.Error()
	if e := (*api.Error)(nil); errors.As(err, &e) {
		msg = e.Message
	}
	msg = rpc.BoundMessage(msg)
	if code == api.CodeInternal {
		msg = "internal error; the request was not applied or its outcome is unknown, retry with the same command_id"
	}
	return api.Error{Status: status, Code: code, Message: msg, PolicyVersion: policyVersion}
}

// WireError is err as the contract's refusal, with the policy version in
// force: what a request would be answered, for the intake's outcomes.
func (s *Service) WireError(err error) api.Error {
	return wireErrorOf(err, s.policyAt(s.opts.Clock.Now()).VersionOf())
}

func badRequest(format string, args ...any) error { return codec.BadRequest(format, args...) }
