package aggregate

import (
	"slices"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/events"
)

// MessageMemory bounds the messages a conversation holds in memory: the
// most recent ones, sent or recalled. An older message leaves memory as a
// MessageRecord (SpillRecords), which the command side keeps outside the
// aggregate and gives back (Recall) when a decision names it, so that a
// conversation's state does not grow with its history
// (docs/architecture.md, "Snapshots and message records").
const MessageMemory = 128

// EndedCallMemory bounds the ended calls a conversation remembers, besides
// every running one: a call_id reused after that many newer calls ended is
// not refused as a repeat (derived call ids never repeat).
const EndedCallMemory = 64

// MessageRecord is what a decision needs of one message: its place among
// the conversation's messages (read markers compare it), its sender, and
// whether it was unsent. SentSeq is the stream sequence of its
// message.sent, which a record read back is checked against.
type MessageRecord struct {
	ID      string         `json:"id"`
	Index   int            `json:"index"`
	Sender  events.Account `json:"sender"`
	Unsent  bool           `json:"unsent,omitempty"`
	SentSeq uint64         `json:"sent_seq"`
}

// messageState is a message in memory: 16 bytes. Its sender is the
// participant at from; one that is none (an event the log holds that no
// decision would make) is in Conversation.strangers.
type messageState struct {
	sentSeq uint64
	index   int32
	from    uint16
	unsent  bool
}

// stranger is messageState.from for a sender who is not a participant.
const stranger = ^uint16(0)

// state is r as memory holds it.
func (c *Conversation) state(k msgKey, r MessageRecord) messageState {
	m := messageState{index: int32(r.Index), unsent: r.Unsent, sentSeq: r.SentSeq, from: stranger}
	if i := slices.Index(c.Participants, r.Sender); i >= 0 {
		m.from = uint16(i)
	} else {
		if c.strangers == nil {
			c.strangers = make(map[msgKey]events.Account)
		}
		c.strangers[k] = r.Sender
	}
	return m
}

// sender is the account that sent m, whose key is k.
func (c *Conversation) sender(k msgKey, m messageState) events.Account {
	if int(m.from) < len(c.Participants) {
		return c.Participants[m.from]
	}
	return c.strangers[k]
}

// record is m, whose key is k, as a record.
func (c *Conversation) record(k msgKey, m messageState) MessageRecord {
	return MessageRecord{ID: k.id(), Index: int(m.index), Sender: c.sender(k, m), Unsent: m.unsent, SentSeq: m.sentSeq}
}

// msgKey is a message id held in memory: 16 bytes rather than a 36-byte
// string of its own. Only ids in canonical UUID form are held: a command
// can name no other (checkID), so another in the log is never looked for.
type msgKey [16]byte

func keyOfMessage(id string) (msgKey, bool) {
	if !events.ValidUUID(id) {
		return msgKey{}, false
	}
	u, err := uuid.Parse(id)
	return msgKey(u), err == nil
}

func (k msgKey) id() string { return uuid.UUID(k).String() }

// remember puts a message in memory, newest, and moves the oldest out to
// the spill once more than MessageMemory are held.
func (c *Conversation) remember(k msgKey, m messageState) {
	if c.messages == nil {
		c.messages = make(map[msgKey]messageState, MessageMemory)
		c.recent = make([]msgKey, 0, MessageMemory)
	}
	delete(c.spill, k)
	if _, held := c.messages[k]; held {
		c.messages[k] = m
		return
	}
	c.messages[k] = m
	if len(c.recent) < MessageMemory {
		c.recent = append(c.recent, k)
		return
	}
	old := c.recent[0]
	copy(c.recent, c.recent[1:])
	c.recent[len(c.recent)-1] = k
	if c.spill == nil {
		c.spill = make(map[msgKey]messageState)
	}
	c.spill[old] = c.messages[old]
	delete(c.messages, old)
	c.outside = true
}

// rememberRecord puts a record in memory.
func (c *Conversation) rememberRecord(r MessageRecord) {
	if k, ok := keyOfMessage(r.ID); ok {
		c.remember(k, c.state(k, r))
	}
}

// find returns the message id in memory or in the spill, without moving
// it: Decide changes nothing.
func (c *Conversation) find(id string) (messageState, bool) {
	k, ok := keyOfMessage(id)
	if !ok {
		return messageState{}, false
	}
	if m, ok := c.messages[k]; ok {
		return m, true
	}
	m, ok := c.spill[k]
	return m, ok
}

// markUnsent records that message id was unsent, wherever it is held.
func (c *Conversation) markUnsent(id string) {
	k, _ := keyOfMessage(id)
	if m, ok := c.messages[k]; ok {
		m.unsent = true
		c.messages[k] = m
		return
	}
	if m, ok := c.spill[k]; ok {
		m.unsent = true
		c.spill[k] = m
	}
}

// Wanted is the message a decision of cmd needs and memory does not hold,
// when some of the conversation's messages live outside it: the caller
// looks its record up and Recalls it before Decide. It is "" when nothing
// is to be looked up (then Decide's "no message" is the truth).
func (c *Conversation) Wanted(cmd Command) string {
	var id string
	switch cmd := cmd.(type) {
	case SendMessage:
		id = cmd.MessageID // a producer's own id must not repeat
	case EditMessage:
		id = cmd.MessageID
	case UnsendMessage:
		id = cmd.MessageID
	case ReactToMessage:
		id = cmd.MessageID
	case ReadMessage:
		id = cmd.MessageID
	}
	return c.wanted(id)
}

// WantedBy is the message folding e needs and memory does not hold (an
// unsend or a read of an old message), "" when none.
func (c *Conversation) WantedBy(e events.Event) string {
	switch e.Type {
	case events.MessageUnsent:
		d, err := events.DataOf[events.MessageUnsentData](e)
		if err == nil {
			return c.wanted(d.MessageID)
		}
	case events.MessageRead:
		d, err := events.DataOf[events.MessageReadData](e)
		if err == nil {
			return c.wanted(d.MessageID)
		}
	}
	return ""
}

func (c *Conversation) wanted(id string) string {
	if id == "" || !c.outside || !events.ValidUUID(id) {
		return ""
	}
	if _, ok := c.find(id); ok {
		return ""
	}
	return id
}

// Recall gives a message record looked up outside the aggregate back to
// memory.
func (c *Conversation) Recall(r MessageRecord) {
	if r.ID == "" || r.Index <= 0 || r.Index > c.count {
		return
	}
	c.rememberRecord(r)
}

// Spilled is how many message records wait in the spill.
func (c *Conversation) Spilled() int { return len(c.spill) }

// SpillRecords returns the records of the messages that left memory
// since the spill was last forgotten, oldest first: the caller keeps them
// where Recall's lookups find them, then calls ForgetSpill. Until then
// they stay in the spill, found as if in memory.
func (c *Conversation) SpillRecords() []MessageRecord {
	out := make([]MessageRecord, 0, len(c.spill))
	for k, m := range c.spill {
		out = append(out, c.record(k, m))
	}
	slices.SortFunc(out, func(a, b MessageRecord) int { return a.Index - b.Index })
	return out
}

// ForgetSpill drops the records SpillRecords returned, once kept.
func (c *Conversation) ForgetSpill() {
	for k := range c.spill {
		delete(c.strangers, k)
	}
	c.spill = nil
}

// setCall records a call as running or ended, and forgets the oldest ended calls beyond
// EndedCallMemory.
func (c *Conversation) setCall(id string, running bool) {
	if c.calls == nil {
		c.calls = make(map[string]bool)
	}
	if _, held := c.calls[id]; !held {
		c.callOrder = append(c.callOrder, id)
	}
	c.calls[id] = running
	ended := 0
	for _, cid := range c.callOrder {
		if !c.calls[cid] {
			ended++
		}
	}
	for i := 0; ended > EndedCallMemory && i < len(c.callOrder); {
		cid := c.callOrder[i]
		if c.calls[cid] {
			i++
			continue
		}
		delete(c.calls, cid)
		c.callOrder = slices.Delete(c.callOrder, i, i+1)
		ended--
	}
}

// Respill puts a record SpillRecords returned back into the spill, when
// the caller could not keep it.
func (c *Conversation) Respill(r MessageRecord) {
	k, ok := keyOfMessage(r.ID)
	if _, held := c.messages[k]; !ok || held {
		return
	}
	if c.spill == nil {
		c.spill = make(map[msgKey]messageState)
	}
	c.spill[k] = c.state(k, r)
}

// mustKey is the key of an id find has found, so a valid one.
func mustKey(id string) msgKey {
	k, _ := keyOfMessage(id)
	return k
}
