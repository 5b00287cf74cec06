package service

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// Errors of the service itself, beside the domain's.
var (
	// ErrBadRequest reports a request body that is not the endpoint's JSON.
	ErrBadRequest = errors.New("bad request")
	// ErrConflict reports a command that still conflicted after every retry.
	ErrConflict = errors.New("conflict")
	// ErrNotCaughtUp reports a query whose min_seq the read model did not
	// reach in time.
	ErrNotCaughtUp = errors.New("read model not caught up")
	// ErrUnknownAccount reports a query about an account with no events.
	ErrUnknownAccount = errors.New("unknown account")
)

// wireError is how one error travels: the micro status code, the contract's
// error code, and the errors that map to it.
type wireError struct {
	status string
	code   string
	errs   []error
}

// wireErrors is the one table from errors to the contract's codes. The first
// row that matches (errors.Is) wins; anything else is internal.
var wireErrors = []wireError{
	{"400", "invalid_request", []error{aggregate.ErrInvalid, ErrBadRequest}},
	{"400", "wrong_app", []error{aggregate.ErrWrongApp}},
	{"400", "invalid_policy", []error{aggregate.ErrInvalidPolicy}},
	{"403", "not_participant", []error{aggregate.ErrNotParticipant, projector.ErrNotParticipant}},
	{"403", "not_sender", []error{aggregate.ErrNotSender}},
	{"403", "conversation_closed", []error{aggregate.ErrConversationClosed}},
	{"403", "cross_app_not_allowed", []error{aggregate.ErrCrossAppNotAllowed}},
	{"403", "call_not_allowed", []error{aggregate.ErrCallNotAllowed}},
	{"404", "conversation_not_found", []error{aggregate.ErrConversationNotFound, projector.ErrConversationNotFound}},
	{"404", "message_not_found", []error{aggregate.ErrMessageNotFound, aggregate.ErrMessageUnsent}},
	{"404", "call_not_found", []error{aggregate.ErrCallNotFound}},
	{"404", "account_not_found", []error{ErrUnknownAccount, projector.ErrUnknownAccount}},
	{"409", "conflict", []error{ErrConflict, aggregate.ErrConversationExists, aggregate.ErrMessageExists}},
	{"409", "policy_version_conflict", []error{aggregate.ErrPolicyVersionConflict}},
	{"504", "not_caught_up", []error{ErrNotCaughtUp}},
}

func classify(err error) (status, code string) {
	for _, w := range wireErrors {
		for _, e := range w.errs {
			if errors.Is(err, e) {
				return w.status, w.code
			}
		}
	}
	return "500", "internal"
}

// errorBody is the JSON body of an error reply.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code          string `json:"code"`
	Message       string `json:"message"`
	PolicyVersion uint64 `json:"policy_version"`
}

// encodeError returns the status, code and JSON body for err. Internal
// errors get a generic sentence: their detail goes to the log, not the wire.
func encodeError(err error, policyVersion uint64) (status, code string, body []byte) {
	status, code = classify(err)
	msg := err.Error()
	if code == "internal" {
		msg = "internal error; the request was not applied or its outcome is unknown, retry with the same command_id"
	}
	body, _ = json.Marshal(errorBody{Error: errorDetail{Code: code, Message: msg, PolicyVersion: policyVersion}})
	return status, code, body
}

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}
