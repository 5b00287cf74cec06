package seed

import (
	"context"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Disconnect is 2023-12-15: the clock has passed 2023-12-14, the closer
// applies policy v2, and the cross-app conversation is closed by it.
func (s *Story) Disconnect(ctx context.Context) error {
	s.clock.Set(time.Date(2023, 12, 15, 9, 0, 0, 0, time.UTC))
	s.heading("the cutoff has passed (policy v2 effective 2023-12-14)")
	st, err := s.waitApplied(ctx, 2)
	if err != nil {
		return err
	}
	s.ok("policy v2 in force and applied: %d conversation(s) closed", st.Closed)
	var conv api.ConversationView
	if err := s.query(ctx, Alice, "conversation", map[string]any{"conversation_id": s.Cross}, &conv); err != nil {
		return err
	}
	if err := expect(conv.Closed && conv.ClosedByPolicy == 2, "conversation %s must be closed by policy 2: %+v", s.Cross, conv); err != nil {
		return err
	}
	s.ok("conversation %s is closed by policy version %d: read-only", s.Cross, conv.ClosedByPolicy)
	return nil
}

// Afterwards is an hour later: what is refused, what is still there, what
// carries on.
func (s *Story) Afterwards(ctx context.Context) error {
	s.clock.Advance(time.Hour)
	steps := []func() error{
		func() error {
			return s.refused(ctx, Alice, "message.send", "conversation_closed", map[string]any{"conversation_id": s.Cross, "text": "hello?"})
		},
		func() error {
			return s.refused(ctx, Alice, "conversation.start", "cross_app_not_allowed", map[string]any{"participants": []events.Account{Bob}})
		},
		func() error {
			return s.refused(ctx, Bob, "call.start", "conversation_closed", map[string]any{"conversation_id": s.Cross, "media": "video"})
		},
		func() error { return s.oldHistoryListed(ctx) },
		func() error { return s.seesAlice(ctx, false) },
		func() error { return s.sameAppCarriesOn(ctx) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Story) oldHistoryListed(ctx context.Context) error {
	m, err := s.messages(ctx, s.Cross, Alice)
	if err != nil {
		return err
	}
	if err := expect(len(m.Items) == 3, "the closed conversation still lists its 3 messages, got %d", len(m.Items)); err != nil {
		return err
	}
	var inbox api.InboxPage
	if err := s.query(ctx, Alice, "inbox", map[string]any{"account": Alice}, &inbox); err != nil {
		return err
	}
	if err := expect(len(inbox.Items) == 1 && inbox.Items[0].Closed, "%s's inbox shows the closed conversation: %+v", Alice, inbox.Items); err != nil {
		return err
	}
	s.ok("%s still sees the closed conversation and its %d messages; nothing moved to another inbox", Alice, len(m.Items))
	return nil
}

func (s *Story) sameAppCarriesOn(ctx context.Context) error {
	if _, err := s.send(ctx, Carol, s.Same, "yes! same-app chat is unaffected"); err != nil {
		return err
	}
	if _, err := s.command(ctx, Carol, "presence.set", map[string]any{"status": "active"}); err != nil {
		return err
	}
	p, err := s.presence(ctx, Bob, Carol)
	if err != nil {
		return err
	}
	if err := expect(p.Visible, "%s sees %s's activity status", Bob, Carol); err != nil {
		return err
	}
	s.ok("%s still sees %s (same app) as %q", Bob, Carol, p.Status)
	return nil
}

// ProveHistory shows what the policy change wrote: audit.Checksum up to
// the last sequence before the cut-off is the same as before it (the bytes
// are unchanged), and since then the policy appended exactly one
// conversation.closed.
func (s *Story) ProveHistory(ctx context.Context) error {
	s.heading("what the policy change wrote")
	after, err := audit.Checksum(ctx, s.log, s.Before.UntilSeq)
	if err != nil {
		return err
	}
	if err := expect(after == s.Before, "history up to seq %d changed: %+v != %+v", s.Before.UntilSeq, after, s.Before); err != nil {
		return err
	}
	s.ok("history up to seq %d is byte-identical: the same audit checksum before and after:", after.UntilSeq)
	s.checksum(after)
	return s.appendedSince(ctx, s.Before.UntilSeq)
}

// appendedSince lists the events after seq and checks that exactly one of
// them is a conversation.closed.
func (s *Story) appendedSince(ctx context.Context, seq uint64) error {
	last, err := s.log.LastSeq(ctx)
	if err != nil {
		return err
	}
	closed := 0
	for seq := seq + 1; seq <= last; seq++ {
		m, err := s.log.Get(ctx, seq)
		if err != nil {
			return err
		}
		e, err := events.Decode(m.Data)
		if err != nil {
			return err
		}
		if e.Type == events.ConversationClosed {
			closed++
		}
		s.ok("appended since: seq %d %s on %s", seq, e.Type, e.Subject)
	}
	return expect(closed == 1, "the policy must append exactly one conversation.closed, got %d", closed)
}
