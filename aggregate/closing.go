package aggregate

import "github.com/crosstalk-dev/crosstalk/events"

// ClosingState returns a started conversation as far as deciding a Close
// needs it (participants, whether it is closed, its position in the log),
// taken from a read model rather than folded from its events. It knows no
// messages, read markers or calls, so no other command may be decided
// against it: the policy closer decides one Close with it and drops it.
// Deciding from a stale position is harmless, because the append expects
// pos.LastSeq and is refused if the conversation moved on.
func ClosingState(id string, participants []events.Account, closed bool, pos Stream) *Conversation {
	apps := events.AppsOf(participants)
	return &Conversation{
		ID: id, Stream: Stream{Version: pos.Version, LastSeq: pos.LastSeq, LastHash: pos.LastHash},
		Started: true, Participants: participants, Apps: apps, CrossApp: len(apps) > 1, Closed: closed,
	}
}
