package api

import (
	"fmt"
	"slices"
)

// Error codes of an error reply (contract: "Error reply"). StatusOf gives
// the micro status code each travels with.
const (
	CodeInvalidRequest       = "invalid_request"
	CodeWrongApp             = "wrong_app"
	CodeForbidden            = "forbidden"
	CodeInvalidPolicy        = "invalid_policy"
	CodeNotParticipant       = "not_participant"
	CodeNotSender            = "not_sender"
	CodeConversationClosed   = "conversation_closed"
	CodeCrossAppNotAllowed   = "cross_app_not_allowed"
	CodeCallNotAllowed       = "call_not_allowed"
	CodeConversationNotFound = "conversation_not_found"
	CodeMessageNotFound      = "message_not_found"
	CodeCallNotFound         = "call_not_found"
	CodeAccountNotFound      = "account_not_found"
	// CodeNotFound answers crosstalk.query.command for a command id with
	// no outcome known: never decided through the intake, or decided
	// longer ago than the intake window.
	CodeNotFound              = "not_found"
	CodeConflict              = "conflict"
	CodeCommandIDReused       = "command_id_reused"
	CodePolicyVersionConflict = "policy_version_conflict"
	CodeInternal              = "internal"
	CodeNotCaughtUp           = "not_caught_up"
	CodeTooManyRequests       = "too_many_requests"
	// CodeStreamMisconfigured refuses a write while the stream's
	// configuration is not what crosstalk requires (someone edited it);
	// writes resume once it is restored.
	CodeStreamMisconfigured = "stream_misconfigured"
	// CodeUnavailable answers a command whose append the stream did not
	// acknowledge in time (service Options.AppendTimeout): it has no leader
	// (an election, a lost quorum) or cannot be reached. The command may or
	// may not be stored; retrying it with the same command_id is safe.
	CodeUnavailable = "unavailable"
)

// RetryAfterHeader is the header of a 429 too_many_requests refused because
// its principal sent faster than its rate: how long to wait before the next
// request is accepted, in whole milliseconds. A 429 for too many requests in
// flight has none: retry once one of them is answered.
const RetryAfterHeader = "Crosstalk-Retry-After-Ms"

// statuses maps each code to its micro status code.
var statuses = map[string]string{
	CodeInvalidRequest: "400", CodeInvalidPolicy: "400",
	CodeWrongApp: "403", CodeForbidden: "403",
	CodeNotParticipant: "403", CodeNotSender: "403", CodeConversationClosed: "403",
	CodeCrossAppNotAllowed: "403", CodeCallNotAllowed: "403",
	CodeConversationNotFound: "404", CodeMessageNotFound: "404", CodeCallNotFound: "404",
	CodeAccountNotFound: "404", CodeNotFound: "404",
	CodeConflict: "409", CodePolicyVersionConflict: "409", CodeCommandIDReused: "409",
	CodeTooManyRequests: "429",
	CodeInternal:        "500",
	CodeNotCaughtUp:     "504",

	CodeStreamMisconfigured: "503", CodeUnavailable: "503",
}

// StatusOf returns the micro status code (the Nats-Service-Error-Code header)
// that code travels with: "400", "403", "404", "409", "429", "500", "503" or "504"; an
// unknown code is "500", as an internal error.
func StatusOf(code string) string {
	if s, ok := statuses[code]; ok {
		return s
	}
	return "500"
}

// ErrorBody is the JSON body of an error reply:
// {"error": {"code", "message", "policy_version"}}.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Error is a refusal: the contract's code, a sentence for a person, and the
// policy version in force when it was decided. Status is the micro status
// code, which travels in the Nats-Service-Error-Code header, not the body.
type Error struct {
	Status        string `json:"-"`
	Code          string `json:"code"`
	Message       string `json:"message"`
	PolicyVersion uint64 `json:"policy_version"`
}

// Error returns "<status> <code>: <message>".
func (e *Error) Error() string { return fmt.Sprintf("%s %s: %s", e.Status, e.Code, e.Message) }

// Codes lists every error code of the contract, sorted, for tools that
// describe it (the AsyncAPI document lists them).
func Codes() []string {
	codes := make([]string, 0, len(statuses))
	for c := range statuses {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}
