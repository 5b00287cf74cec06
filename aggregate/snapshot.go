package aggregate

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/events"
)

// snapshotFormat is the version of a snapshot's encoding; a snapshot of
// another format is not restored (its conversation is folded from the log).
// Format 2 added Expired; a format 1 snapshot is still restored, as it was
// written before content.expired existed, so none is folded into it.
const snapshotFormat = 2

// ErrSpillPending refuses a snapshot while message records wait in the
// spill: a snapshot must not leave memory without their being kept.
var ErrSpillPending = errors.New("aggregate: message records wait in the spill")

// ErrSnapshot reports a snapshot that cannot be restored.
var ErrSnapshot = errors.New("aggregate: not a conversation snapshot")

// conversationSnapshot is a conversation's whole decision state, bounded:
// the recent messages, read markers, running and recent calls, and its
// position with the recent command ids.
type conversationSnapshot struct {
	Format       int                    `json:"format"`
	ID           string                 `json:"id"`
	Started      bool                   `json:"started"`
	Participants []events.Account       `json:"participants,omitempty"`
	CrossApp     bool                   `json:"cross_app,omitempty"`
	Closed       bool                   `json:"closed,omitempty"`
	ClosedBy     uint64                 `json:"closed_by,omitempty"`
	Count        int                    `json:"count"`
	Outside      bool                   `json:"outside,omitempty"`
	Messages     []MessageRecord        `json:"messages,omitempty"`
	ReadUpTo     map[events.Account]int `json:"read_up_to,omitempty"`
	Calls        []callRecord           `json:"calls,omitempty"`
	Expired      uint32                 `json:"expired,omitempty"`
	Stream       streamSnapshot         `json:"stream"`
}

type callRecord struct {
	ID      string `json:"id"`
	Running bool   `json:"running,omitempty"`
}

type streamSnapshot struct {
	Version  uint64 `json:"version"`
	LastSeq  uint64 `json:"last_seq"`
	LastHash string `json:"last_hash"`
	// Prior is the remembered commands, oldest first, 16 bytes each: the
	// key's hash and the sequence, big-endian.
	Prior []byte `json:"prior,omitempty"`
}

// Snapshot encodes the conversation's decision state, which
// RestoreConversation decodes into an equal state. It refuses while
// records wait in the spill (ErrSpillPending).
func (c *Conversation) Snapshot() ([]byte, error) {
	if len(c.spill) > 0 {
		return nil, ErrSpillPending
	}
	s := conversationSnapshot{Format: snapshotFormat, ID: c.ID, Started: c.Started, Participants: c.Participants,
		CrossApp: c.CrossApp, Closed: c.Closed, ClosedBy: c.ClosedBy, Count: c.count, Outside: c.outside,
		ReadUpTo: c.readUpTo, Stream: c.Stream.snapshot(), Expired: c.expired}
	for _, k := range c.recent {
		s.Messages = append(s.Messages, c.record(k, c.messages[k]))
	}
	for _, id := range c.callOrder {
		s.Calls = append(s.Calls, callRecord{ID: id, Running: c.calls[id]})
	}
	return json.Marshal(s)
}

// RestoreConversation decodes a Snapshot.
func RestoreConversation(data []byte) (*Conversation, error) {
	var s conversationSnapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	if s.Format != snapshotFormat && s.Format != 1 || s.ID == "" {
		return nil, fmt.Errorf("%w: format %d, id %q", ErrSnapshot, s.Format, s.ID)
	}
	c := &Conversation{ID: s.ID, Started: s.Started, Participants: s.Participants, CrossApp: s.CrossApp,
		Closed: s.Closed, ClosedBy: s.ClosedBy, count: s.Count, readUpTo: s.ReadUpTo, expired: s.Expired}
	if s.Started {
		c.Apps = events.AppsOf(s.Participants)
	}
	for _, m := range s.Messages {
		c.rememberRecord(m)
	}
	c.spill = nil
	c.outside = s.Outside
	for _, call := range s.Calls {
		c.setCall(call.ID, call.Running)
	}
	c.Stream = s.Stream.restore()
	return c, nil
}

func (s *Stream) snapshot() streamSnapshot {
	out := streamSnapshot{Version: s.Version, LastSeq: s.LastSeq, LastHash: s.LastHash}
	out.Prior = make([]byte, 0, 16*len(s.prior))
	for i := range s.prior {
		e := s.prior[(s.next0+i)%len(s.prior)]
		out.Prior = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(out.Prior, e.key), e.seq)
	}
	return out
}

func (s streamSnapshot) restore() Stream {
	st := Stream{Version: s.Version, LastSeq: s.LastSeq, LastHash: s.LastHash,
		prior: make([]priorEntry, 0, min(len(s.Prior)/16, PriorLimit))}
	for b := s.Prior; len(b) >= 16; b = b[16:] {
		st.remember(priorEntry{key: binary.BigEndian.Uint64(b), seq: binary.BigEndian.Uint64(b[8:])})
	}
	return st
}
