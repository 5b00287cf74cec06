// Package aggregate holds the crosstalk state machines: Conversation, Account
// and Policies. Each decides commands with a pure Decide method (state,
// command, policy in force and clock in; one event or an error out) and
// folds stored events back into state with Evolve. Nothing here does I/O,
// reads a clock or names an app: apps are only ever compared through the
// rules of a Policy.
package aggregate

import (
	"errors"
	"fmt"
)

// Domain errors. The service maps each to one wire code; wrap them with
// context and match them with errors.Is.
var (
	ErrInvalid               = errors.New("invalid request")
	ErrWrongApp              = errors.New("actor belongs to another app")
	ErrNotParticipant        = errors.New("not a participant")
	ErrNotSender             = errors.New("not the sender of the message")
	ErrConversationNotFound  = errors.New("conversation not found")
	ErrConversationExists    = errors.New("conversation already exists")
	ErrMessageNotFound       = errors.New("message not found")
	ErrMessageExists         = errors.New("message id already used")
	ErrMessageUnsent         = errors.New("message was unsent")
	ErrCallNotFound          = errors.New("call not found")
	ErrConversationClosed    = errors.New("conversation closed")
	ErrCrossAppNotAllowed    = errors.New("cross-app not allowed")
	ErrCallNotAllowed        = errors.New("call not allowed")
	ErrPolicyVersionConflict = errors.New("policy version conflict")
	ErrInvalidPolicy         = errors.New("invalid policy")
	ErrNotAffected           = errors.New("conversation not affected by policy")
	// ErrCommandIDReused reports a command whose id already named another
	// command (see SameCommand).
	ErrCommandIDReused = errors.New("command id reused")
	// ErrUnknownCommand reports a command given to an aggregate that does
	// not decide it. It is an ErrInvalid, so it maps to the same wire code.
	ErrUnknownCommand = fmt.Errorf("%w: unknown command", ErrInvalid)
)
