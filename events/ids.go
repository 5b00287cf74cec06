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
	var u uuid.UUID
	ms := uint64(now.UnixMilli())
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(u[0:6], ts[2:8])
	sum := sha256.Sum256([]byte(seed))
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

// ValidUUID reports whether s is a UUID in canonical text form.
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// conversationNamespace scopes ConversationIDFor's name-based UUIDs.
var conversationNamespace = uuid.MustParse("3f1d6c2e-8b4a-4e7f-9a55-0c2d7e91b6a3")

// ConversationIDFor is the id of the conversation a start command makes
// when the producer names none: a name-based UUID (version 5) of the
// command id, so every retry of that command, however late and under
// whatever policy, finds the same conversation and gets the first reply.
func ConversationIDFor(commandID string) string {
	return uuid.NewSHA1(conversationNamespace, []byte(commandID)).String()
}
