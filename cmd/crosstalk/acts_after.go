package main

import (
	"context"
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// waitState returns the policy report entry of version v.
func (s *story) waitState(ctx context.Context, v uint64) (api.PolicyStatus, error) {
	var rep api.PolicyReport
	if err := s.query(ctx, "policy", map[string]any{}, &rep); err != nil {
		return api.PolicyStatus{}, err
	}
	for _, p := range rep.Versions {
		if p.Version == v {
			return p, nil
		}
	}
	return api.PolicyStatus{}, fmt.Errorf("demo expectation failed: policy v%d not reported", v)
}

// disconnect: the clock passes 2023-12-14 and the closer runs.
func (s *story) disconnect(ctx context.Context) error {
	s.clock.Set(time.Date(2023, 12, 15, 9, 0, 0, 0, time.UTC))
	s.heading("the cutoff has passed (policy v2 effective 2023-12-14)")
	st, err := s.waitApplied(ctx, 2)
	if err != nil {
		return err
	}
	s.ok("policy v2 in force and applied: %d conversation(s) closed", st.Closed)
	var conv api.ConversationView
	if err := s.query(ctx, "conversation", map[string]any{"conversation_id": s.cross}, &conv); err != nil {
		return err
	}
	if err := expect(conv.Closed && conv.ClosedByPolicy == 2, "conversation %s must be closed by policy 2: %+v", s.cross, conv); err != nil {
		return err
	}
	s.ok("conversation %s is closed by policy version %d: read-only", s.cross, conv.ClosedByPolicy)
	return nil
}

// afterwards: what is refused, what is still there, what carries on.
func (s *story) afterwards(ctx context.Context) error {
	s.clock.Advance(time.Hour)
	steps := []func() error{
		func() error {
			return s.refused(ctx, alice, "message.send", "conversation_closed", map[string]any{"conversation_id": s.cross, "text": "hello?"})
		},
		func() error {
			return s.refused(ctx, alice, "conversation.start", "cross_app_not_allowed", map[string]any{"participants": []events.Account{bob}})
		},
		func() error {
			return s.refused(ctx, bob, "call.start", "conversation_closed", map[string]any{"conversation_id": s.cross, "media": "video"})
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

func (s *story) oldHistoryListed(ctx context.Context) error {
	m, err := s.messages(ctx, s.cross, alice)
	if err != nil {
		return err
	}
	if err := expect(len(m.Items) == 3, "the closed conversation still lists its 3 messages, got %d", len(m.Items)); err != nil {
		return err
	}
	var inbox api.InboxPage
	if err := s.query(ctx, "inbox", map[string]any{"account": alice}, &inbox); err != nil {
		return err
	}
	if err := expect(len(inbox.Items) == 1 && inbox.Items[0].Closed, "%s's inbox shows the closed conversation: %+v", alice, inbox.Items); err != nil {
		return err
	}
	s.ok("%s still sees the closed conversation and its %d messages; nothing moved to another inbox", alice, len(m.Items))
	return nil
}

func (s *story) sameAppCarriesOn(ctx context.Context) error {
	if _, err := s.send(ctx, carol, s.same, "yes! same-app chat is unaffected"); err != nil {
		return err
	}
	if _, err := s.command(ctx, carol, "presence.set", map[string]any{"status": "active"}); err != nil {
		return err
	}
	p, err := s.presence(ctx, bob, carol)
	if err != nil {
		return err
	}
	if err := expect(p.Visible, "%s sees %s's activity status", bob, carol); err != nil {
		return err
	}
	s.ok("%s still sees %s (same app) as %q", bob, carol, p.Status)
	return nil
}

// proveHistory: the bytes before the cutoff are unchanged, and the policy
// added exactly one conversation.closed.
func (s *story) proveHistory(ctx context.Context) error {
	s.heading("what the policy change wrote")
	after, err := s.historyChecksum(ctx, s.preSeq)
	if err != nil {
		return err
	}
	if err := expect(after == s.preHash, "history up to seq %d changed: %s != %s", s.preSeq, after, s.preHash); err != nil {
		return err
	}
	s.ok("history up to seq %d is byte-identical: sha256 %s before and after", s.preSeq, after[:16])
	last, err := s.n.Log().LastSeq(ctx)
	if err != nil {
		return err
	}
	closed := 0
	for seq := s.preSeq + 1; seq <= last; seq++ {
		m, err := s.n.Log().Get(ctx, seq)
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
