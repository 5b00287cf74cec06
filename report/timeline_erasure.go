package report

import (
	"fmt"
	"strconv"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/seal"
)

// A timeline is read from the streams alone, without the keys: a sealed
// text or reaction reads "[sealed]", and one that a later event erased
// carries that erasure (docs/erasure.md). Never a ciphertext.

// shownText is a text or reaction as a timeline prints it: quoted when in
// clear, "[sealed]" when sealed.
func shownText(clear, sealed string) string {
	if sealed != "" {
		return "[sealed]"
	}
	return strconv.Quote(clear)
}

// shownStored is a text as the views answer without keys: quoted, or
// "[sealed]" for a sealed value (the report opens nothing).
func shownStored(v string) string {
	if seal.IsSealed(v) || v == sealedMark {
		return sealedMark
	}
	return strconv.Quote(v)
}

// sealedMark is what a report shows for a sealed text or reaction.
const sealedMark = "[sealed]"

// maskSealed replaces, in messages as the views store them, every sealed
// text and reaction by "[sealed]": a report opens nothing, and its JSON
// carries no ciphertext either.
func maskSealed(ms []api.MessageView) []api.MessageView {
	for i := range ms {
		if seal.IsSealed(ms[i].Text) {
			ms[i].Text = sealedMark
		}
		for a, r := range ms[i].Reactions {
			if seal.IsSealed(r) {
				ms[i].Reactions[a] = sealedMark
			}
		}
	}
	return ms
}

// erasureChange is the change of an account.erased or a content.expired.
func erasureChange(d events.Payload) string {
	switch d := d.(type) {
	case *events.AccountErasedData:
		return fmt.Sprintf("erased the content of %s", d.Account)
	case *events.ContentExpiredData:
		return fmt.Sprintf("expired the content through message %d, written before %s (policy v%d)",
			d.Through, d.Before.UTC().Format(time.RFC3339), d.PolicyVersion)
	}
	return ""
}

// erasedSuffix is what a table line adds for an erased entry.
func erasedSuffix(x *api.Erasure) string {
	if x == nil {
		return ""
	}
	s := " (erased: " + x.Reason
	if x.By != "" {
		s += " by " + x.By
	}
	if x.PolicyVersion != 0 {
		s += fmt.Sprintf(" policy v%d", x.PolicyVersion)
	}
	return s + " at " + formatTime(x.At) + ")"
}

// sealedItem is a sealed text or reaction of the log.
type sealedItem struct {
	account   string
	conv      string
	messageID string
	leaf      uint32
	at        time.Time
}

// expiry is one content.expired of a conversation.
type expiry struct {
	through uint32
	x       api.Erasure
}

// erasures gathers, in one walk of the log, the sealed items and the
// events that erased content, to mark the entries they concern.
type erasures struct {
	items    map[string]sealedItem    // by event id
	accounts map[string][]api.Erasure // account -> its erasures, in log order
	unsent   map[string]api.Erasure   // conversation "\x00" message id -> its unsend
	expiries map[string][]expiry      // conversation -> its expiries
}

func newErasures() *erasures {
	return &erasures{items: map[string]sealedItem{}, accounts: map[string][]api.Erasure{},
		unsent: map[string]api.Erasure{}, expiries: map[string][]expiry{}}
}

// note records what message m says of sealed content and its erasure.
func (er *erasures) note(m events.Message) {
	e, err := events.Decode(m.Data)
	if err != nil {
		return
	}
	data, err := payloadOf(e)
	if err != nil {
		return
	}
	_, key := events.ClassifySubject(m.Subject)
	switch d := data.(type) {
	case *events.MessageSentData:
		er.sealed(e, key, d.MessageID, d.Sealed, data.Actor())
	case *events.MessageEditedData:
		er.sealed(e, key, d.MessageID, d.Sealed, data.Actor())
	case *events.MessageReactedData:
		er.sealed(e, key, d.MessageID, d.Sealed, data.Actor())
	case *events.MessageUnsentData:
		er.unsent[key+"\x00"+d.MessageID] = api.Erasure{At: e.Time, By: string(d.By), Reason: api.ErasedUnsent}
	case *events.AccountErasedData:
		er.accounts[key] = append(er.accounts[key], api.Erasure{At: e.Time, By: string(d.By), Reason: api.ErasedAccount})
	case *events.ContentExpiredData:
		x := api.Erasure{At: e.Time, Reason: api.ErasedRetention, PolicyVersion: d.PolicyVersion}
		er.expiries[key] = append(er.expiries[key], expiry{through: d.Through, x: x})
	}
}

func (er *erasures) sealed(e events.Event, conv, messageID, sealed, account string) {
	if sealed == "" {
		return
	}
	s, err := seal.Parse(sealed)
	if err != nil {
		return // the change still reads [sealed]
	}
	er.items[e.ID] = sealedItem{account: account, conv: conv, messageID: messageID, leaf: s.Leaf, at: e.Time}
}

// mark sets Erased on each entry of a sealed item a later event erased.
func (er *erasures) mark(entries []TimelineEntry) {
	for i := range entries {
		if it, ok := er.items[entries[i].EventID]; ok {
			entries[i].Erased = er.of(it)
		}
	}
}

// of is the first erasure of item it, or nil.
func (er *erasures) of(it sealedItem) *api.Erasure {
	for _, x := range er.accounts[it.account] {
		if !x.At.Before(it.at) {
			return &x
		}
	}
	if x, ok := er.unsent[it.conv+"\x00"+it.messageID]; ok {
		return &x
	}
	for _, x := range er.expiries[it.conv] {
		if it.leaf <= x.through && !x.x.At.Before(it.at) {
			return &x.x
		}
	}
	return nil
}
