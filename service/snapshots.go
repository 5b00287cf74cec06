package service

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Snapshots is where the command side keeps conversation snapshots and
// the records of messages out of a conversation's memory (package
// snapshots), so that a conversation loads in time and memory bounded
// whatever its history.
type Snapshots interface {
	Snapshot(ctx context.Context, conv string) (data []byte, ok bool, err error)
	Record(ctx context.Context, conv, msg string) (data []byte, ok bool, err error)
	Keep(ctx context.Context, conv string, records map[string][]byte, snapshot []byte) error
}

// DefaultSnapshotEvery is the default of Options.SnapshotEvery.
const DefaultSnapshotEvery = 128

// errSnapshotOffLog refuses a snapshot or record the log contradicts.
var errSnapshotOffLog = errors.New("not what the log holds at its sequence")

// restore starts e's conversation from its snapshot, if it has one that
// the log confirms: the event at the snapshot's last sequence is on e's
// subject and has the snapshot's chain hash. Anything else leaves e to be
// folded from the log's start. The caller holds e.mu; e is not loaded.
func (s *Service) restore(ctx context.Context, e *entry) {
	fresh, ok := e.state.(*aggregate.Conversation)
	if !ok || s.opts.Snapshots == nil || fresh.Position().Version > 0 {
		return
	}
	data, found, err := s.opts.Snapshots.Snapshot(ctx, fresh.ID)
	if err != nil || !found {
		return
	}
	c, err := aggregate.RestoreConversation(data)
	if err == nil && c.ID != fresh.ID {
		err = aggregate.ErrSnapshot
	}
	if err == nil {
		err = s.confirm(ctx, e.subject, c.Position())
	}
	if err != nil {
		s.opts.Logger.Warn("snapshot not used: the conversation is folded from the log", slog.String("subject", e.subject), slog.Any("err", err))
		return
	}
	e.state, e.snapVersion = c, c.Position().Version
}

// confirm checks a snapshot's position against the log.
func (s *Service) confirm(ctx context.Context, subject string, pos *aggregate.Stream) error {
	m, err := s.model.Get(ctx, subject, pos.LastSeq)
	if err != nil {
		return err
	}
	if m.Subject != subject || events.Hash(m.Data) != pos.LastHash {
		return errSnapshotOffLog
	}
	return nil
}

// recall gives e's conversation the record of message id, when kept and
// confirmed by the log (its message.sent is at the record's sequence, on
// e's subject, by its sender). Without it the decision finds no message.
func (s *Service) recall(ctx context.Context, e *entry, c *aggregate.Conversation, id string) {
	data, found, err := s.opts.Snapshots.Record(ctx, c.ID, id)
	if err != nil || !found {
		return
	}
	var r aggregate.MessageRecord
	if json.Unmarshal(data, &r) != nil || r.ID != id || s.confirmRecord(ctx, e.subject, r) != nil {
		s.opts.Logger.Warn("message record not used", slog.String("subject", e.subject), slog.String("message_id", id))
		return
	}
	c.Recall(r)
}

func (s *Service) confirmRecord(ctx context.Context, subject string, r aggregate.MessageRecord) error {
	m, err := s.model.Get(ctx, subject, r.SentSeq)
	if err != nil {
		return err
	}
	ev, err := events.Decode(m.Data)
	if err != nil || m.Subject != subject || ev.Type != events.MessageSent {
		return errSnapshotOffLog
	}
	d, err := events.DataOf[events.MessageSentData](ev)
	if err != nil || d.MessageID != r.ID || d.Sender != r.Sender {
		return errSnapshotOffLog
	}
	return nil
}

// recallFor recalls what a decision of cmd on e needs.
func (s *Service) recallFor(ctx context.Context, e *entry, cmd aggregate.Command) {
	if c, ok := e.state.(*aggregate.Conversation); ok && s.opts.Snapshots != nil {
		if id := c.Wanted(cmd); id != "" {
			s.recall(ctx, e, c, id)
		}
	}
}

// recallBy recalls what folding ev into e needs.
func (s *Service) recallBy(ctx context.Context, e *entry, ev events.Event) {
	if c, ok := e.state.(*aggregate.Conversation); ok && s.opts.Snapshots != nil {
		if id := c.WantedBy(ev); id != "" {
			s.recall(ctx, e, c, id)
		}
	}
}

// keepDue reports whether keep has something to store for e: records
// spilled, or a snapshot due. The caller holds e.mu.
func (s *Service) keepDue(e *entry) bool {
	c, ok := e.state.(*aggregate.Conversation)
	if !ok || s.opts.Snapshots == nil {
		return false
	}
	return (s.snapshotDue(e, c) || c.Spilled() >= aggregate.MessageMemory) && c.Spilled() >= e.keepAgainAt
}

// snapshotDue reports whether c, e's conversation, is due a snapshot.
func (s *Service) snapshotDue(e *entry, c *aggregate.Conversation) bool {
	return c.Position().Version-e.snapVersion >= uint64(s.opts.SnapshotEvery)
}

// keep stores e's spilled message records once a memory's worth has
// left, and a snapshot every Options.SnapshotEvery events. A failure
// keeps the records in the spill, to try again later. The caller holds
// e.mu.
func (s *Service) keep(ctx context.Context, e *entry) {
	if ctx.Err() != nil || !s.keepDue(e) {
		return // out of time: the spill waits for the next command
	}
	c := e.state.(*aggregate.Conversation)
	snap := s.snapshotDue(e, c)
	spilled := c.SpillRecords()
	records := make(map[string][]byte, len(spilled))
	for _, r := range spilled {
		records[r.ID], _ = json.Marshal(r) // a record always encodes
	}
	c.ForgetSpill()
	var data []byte
	if snap {
		data, _ = c.Snapshot() // the spill is empty now
	}
	if err := s.opts.Snapshots.Keep(ctx, c.ID, records, data); err != nil {
		s.opts.Logger.Warn("keep message records and snapshot", slog.String("subject", e.subject), slog.Any("err", err))
		for _, r := range spilled {
			c.Respill(r)
		}
		e.keepAgainAt = c.Spilled() + aggregate.MessageMemory // not again at every event
		return
	}
	e.keepAgainAt = 0
	if snap {
		e.snapVersion = c.Position().Version
	}
}
