package events

import (
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/google/uuid"
)

// DerivedID returns a UUID version 7 whose timestamp is now and whose random
// bits are taken from sha256(seed). Deciding a command is pure: the same
// command at the same instant yields the same event id, so ids need no
// random source and replays of a decision are reproducible.
func DerivedID(now time.Time, seed string) string {
	return derivedID(now, sha256.Sum256([]byte(seed)))
}

// DerivedIDOf is DerivedID of a seed given as bytes, which a caller can
// build in a buffer on its stack: converting it to a string would allocate.
func DerivedIDOf(now time.Time, seed []byte) string {
	return derivedID(now, sha256.Sum256(seed))
}

func derivedID(now time.Time, sum [sha256.Size]byte) string {
	var u uuid.UUID
	ms := uint64(now.UnixMilli())
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(u[0:6], ts[2:8])
	copy(u[6:], sum[:10])
	u[6] = (u[6] & 0x0f) | 0x70 // version 7
	u[8] = (u[8] & 0x3f) | 0x80 // RFC 4122 variant
	return u.String()
}

// NewID returns a random UUID version 7 for ids the server makes outside a
// decision (conversation ids, message ids when the producer gives none).
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// UUIDForm says what ValidUUID accepts, for error messages.
const UUIDForm = "a UUID in canonical form: 36 characters, lowercase hex digits and hyphens (8-4-4-4-12)"

// ValidUUID reports whether s is a UUID in canonical text form: 36
// characters, lowercase hex digits with hyphens at 8, 13, 18 and 23, as
// uuid.UUID.String writes it. Every id of the contract must be in this one
// form, because ids are compared as strings (subjects, keys, the duplicate
// window): an uppercase twin would name another conversation, or store a
// retried command twice.
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

// DerivedFrom reports whether id is DerivedID(t, seed) for some instant t:
// whether its random bits are those seed gives. It lets a stored event's id
// say which decision it came from without storing that decision's inputs.
func DerivedFrom(id, seed string) bool {
	// The first 13 characters are the 48-bit timestamp; the rest are the
	// version, the variant and sha256(seed).
	return len(id) == 36 && id[13:] == DerivedID(time.UnixMilli(0), seed)[13:]
}

// conversationNamespace scopes ConversationIDFor's name-based UUIDs.
var conversationNamespace = uuid.MustParse("3f1d6c2e-8b4a-4e7f-9a55-0c2d7e91b6a3")

// CommandKey is a command id as crosstalk remembers it: scoped by app, the
// app whose endpoint (crosstalk.cmd.<app>.…, crosstalk.intake.<app>.…)
// took the command, as "<app>.<command id>". Each app chooses its command
// ids, so two apps may give the same one; every place that keys on a
// command id (the event log's Nats-Msg-Id, an aggregate's memory of
// commands, the intake's deduplication and outcomes) keys on this. A
// command of no app (a policy publish, a closing) keeps its bare id.
func CommandKey(app App, commandID string) string {
	if app == "" {
		return commandID
	}
	return string(app) + "." + commandID
}

// ConversationIDFor is the id of the conversation a start command of app
// makes when the producer names none: a name-based UUID (version 5) of the
// command's key (CommandKey), so every retry of that command, however late
// and under whatever policy, finds the same conversation and gets the first
// reply, and another app's command with the same id names another one.
// Conversations started before ids were scoped by app were named from the
// bare command id; their ids are stored and stay (contract.md, "Command
// ids").
func ConversationIDFor(app App, commandID string) string {
	return uuid.NewSHA1(conversationNamespace, []byte(CommandKey(app, commandID))).String()
}
