package testkit

import (
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Builders of the payloads and stored bytes the tests' stories are made of.

// Started is the data of conversation id started by by with others: by
// comes first among the participants, and the conversation is cross-app
// if any participant is on another app than by.
func Started(id string, by events.Account, others ...events.Account) events.ConversationStartedData {
	parts := append([]events.Account{by}, others...)
	cross := false
	for _, p := range parts {
		cross = cross || p.App() != by.App()
	}
	return events.ConversationStartedData{ConversationID: id, StartedBy: by, Participants: parts, CrossApp: cross}
}

// CrossAppPolicy is the data of policy version named name, in effect from
// effective, whose links between instagram and messenger, both ways, allow
// everything (allow) or nothing.
func CrossAppPolicy(version uint64, name string, effective time.Time, allow bool) events.PolicyPublishedData {
	link := func(from, to events.App) events.LinkData {
		return events.LinkData{From: string(from), To: string(to), StartConversation: allow, Send: allow, Call: allow,
			SeeActivityStatus: allow, SeeReadReceipts: allow}
	}
	return events.PolicyPublishedData{Version: version, Name: name, EffectiveAt: effective,
		Links: []events.LinkData{link("instagram", "messenger"), link("messenger", "instagram")}}
}

// Encode returns the stored bytes of e and fails the test if it cannot be
// encoded.
func Encode(t testing.TB, e events.Event) []byte {
	t.Helper()
	b, err := events.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
