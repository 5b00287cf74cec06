package aggregate

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// A command id names one command. A retry (the same command, with the same
// id, on the same aggregate) is answered with the first reply; the same id
// given to any other command is refused with ErrCommandIDReused. To tell
// the two apart without storing more than the event, an event's id is
// derived (events.DerivedID) from its command's id, its aggregate's subject
// and the command's own fields (appendSeed): a stored event then says, by its
// id alone, which command it was decided from (events.DerivedFrom), and
// SameCommand checks a retry against it.

// seedBuffer is the room for a seed on the stack: a command with a short
// text fits, so deciding it allocates nothing more for its seed.
const seedBuffer = 256

// appendSeed returns cmd's meta, and appends to b what the id of the event
// decided from cmd on subject (the event's subject: a conversation id, an
// account, "policy") derives from: the command's id, the subject, and what
// makes cmd the command it is (describe).
func appendSeed(b []byte, cmd Command, subject string) (Meta, []byte) {
	m, kind, f := describe(cmd)
	return m, appendFields(b, m.CommandID, subject, kind, string(m.Actor), f[0], f[1], f[2])
}

// describe returns cmd's meta, its kind and the fields the producer gave,
// in a fixed order, free text last. What the service fills in (opt-ins, the
// policy a closing applies) and who sent it (the principal) are left out: a
// retry is the same request, whoever relays it and whatever changed
// meanwhile. It reads cmd by a type switch, not cmd.Header(): a dynamic
// call would make every decided command escape to the heap.
func describe(cmd Command) (m Meta, kind string, f [3]string) {
	switch c := cmd.(type) {
	case StartConversation:
		return c.Meta, "start", [3]string{participantSet(c.Actor, c.Participants)}
	case SendMessage:
		return c.Meta, "send", [3]string{c.MessageID, clearOr(c.Text, c.Digest)}
	case EditMessage:
		return c.Meta, "edit", [3]string{c.MessageID, clearOr(c.Text, c.Digest)}
	case UnsendMessage:
		return c.Meta, "unsend", [3]string{c.MessageID}
	case ReactToMessage:
		return c.Meta, "react", [3]string{c.MessageID, clearOr(c.Reaction, c.Digest)}
	case ReadMessage:
		return c.Meta, "read", [3]string{c.MessageID}
	case StartCall:
		return c.Meta, "call.start", [3]string{c.CallID, c.Media}
	case EndCall:
		return c.Meta, "call.end", [3]string{c.CallID}
	case SetPresence:
		return c.Meta, "presence", [3]string{c.Status}
	case ChangeSettings:
		return c.Meta, "settings", [3]string{triState(c.ShowActivityStatus), triState(c.SendReadReceipts), triState(c.InteropOptIn)}
	case EraseAccount:
		return c.Meta, "erase", [3]string{}
	case ExpireContent:
		return c.Header(), "expire", [3]string{strconv.FormatUint(uint64(c.Through), 10),
			c.Before.UTC().Format(time.RFC3339Nano), strconv.FormatUint(c.PolicyVersion, 10)}
	case Close:
		return c.Header(), "close", [3]string{}
	case PublishPolicy:
		doc, _ := json.Marshal(c.Policy.Data()) // plain data: cannot fail
		return c.Header(), "policy", [3]string{string(doc)}
	}
	return Meta{}, "", [3]string{} // Command is sealed: not reached
}

// clearOr is what a seed holds of free text: its keyed digest when the
// text is sealed, else the text itself.
func clearOr(text, digest string) string {
	if digest != "" {
		return digest
	}
	return text
}

// appendFields appends values to b, each after a NUL but the first.
func appendFields(b []byte, values ...string) []byte {
	for i, v := range values {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, v...)
	}
	return b
}

// legacySeed is what an event id derived from before the command's own
// fields were part of it.
func legacySeed(commandID, subject string) string { return commandID + "\x00" + subject }

// participantSet is the participants as a set (sorted, without repeats,
// with the actor), so a retry that lists them in another order is the same
// command, as it starts the same conversation.
func participantSet(actor events.Account, given []events.Account) string {
	all := make([]string, 0, len(given)+1)
	all = append(all, string(actor))
	for _, a := range given {
		all = append(all, string(a))
	}
	slices.Sort(all)
	return strings.Join(slices.Compact(all), ",")
}

func triState(v *bool) string {
	switch {
	case v == nil:
		return "-"
	case *v:
		return "t"
	}
	return "f"
}

// sameCommand reports whether the event eventID, stored on subject, was
// decided from cmd. An event stored before ids derived from the command's
// fields matches any command with its id: the old rule, all it can tell.
func sameCommand(eventID, subject string, cmd Command) bool {
	m, seed := appendSeed(nil, cmd, subject)
	return events.DerivedFrom(eventID, string(seed)) ||
		events.DerivedFrom(eventID, legacySeed(m.CommandID, subject))
}

// SameCommand reports whether the stored event e was decided from cmd, so
// that cmd is a retry to answer with e, not another command given e's
// command id. The caller also checks that e is on cmd's aggregate: the
// duplicate window spans the stream.
func SameCommand(e events.Event, cmd Command) bool {
	return e.CausationID == cmd.Header().CommandID && sameCommand(e.ID, e.Subject, cmd)
}
