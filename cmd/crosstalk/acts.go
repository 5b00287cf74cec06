package main

import (
	"context"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// connect: 2020, policy v1 links the apps and alice and bob start talking.
func (s *story) connect(ctx context.Context) error {
	s.heading("Instagram and Messenger connect")
	if err := s.publish(ctx, "v1-2020-cross-app.json"); err != nil {
		return err
	}
	r, err := s.command(ctx, alice, "conversation.start", map[string]any{"participants": []events.Account{bob}})
	if err != nil {
		return err
	}
	s.cross = r.ConversationID
	s.ok("%s starts cross-app conversation %s with %s", alice, s.cross, bob)
	r, err = s.command(ctx, bob, "conversation.start", map[string]any{"participants": []events.Account{carol}})
	if err != nil {
		return err
	}
	s.same = r.ConversationID
	s.ok("%s starts same-app conversation %s with %s", bob, s.same, carol)
	return nil
}

func (s *story) send(ctx context.Context, actor events.Account, conv, text string) (string, error) {
	r, err := s.command(ctx, actor, "message.send", map[string]any{"conversation_id": conv, "text": text})
	if err != nil {
		return "", err
	}
	s.ok("%s: %q", actor, text)
	return r.MessageID, nil
}

func (s *story) read(ctx context.Context, actor events.Account, conv, msg string) error {
	_, err := s.command(ctx, actor, "message.read", map[string]any{"conversation_id": conv, "message_id": msg})
	if err == nil {
		s.ok("%s reads up to message %s", actor, msg)
	}
	return err
}

// chat: messages both ways, read receipts and activity status, all visible.
func (s *story) chat(ctx context.Context) error {
	s.clock.Advance(time.Hour)
	m1, err := s.send(ctx, alice, s.cross, "hey Bob, it's Alice on Instagram")
	if err != nil {
		return err
	}
	m2, err := s.send(ctx, bob, s.cross, "hi Alice! Bob here, on Messenger")
	if err != nil {
		return err
	}
	if err := s.read(ctx, bob, s.cross, m1); err != nil {
		return err
	}
	if err := s.read(ctx, alice, s.cross, m2); err != nil {
		return err
	}
	for _, a := range []events.Account{alice, bob} {
		if _, err := s.command(ctx, a, "presence.set", map[string]any{"status": "active"}); err != nil {
			return err
		}
	}
	if _, err := s.send(ctx, bob, s.same, "lunch tomorrow, Carol?"); err != nil {
		return err
	}
	return s.seesAlice(ctx, true)
}

// seesAlice checks what bob (Messenger) sees of alice (Instagram).
func (s *story) seesAlice(ctx context.Context, want bool) error {
	p, err := s.presence(ctx, bob, alice)
	if err != nil {
		return err
	}
	if err := expect(p.Visible == want, "%s sees %s's activity status: got %v, want %v", bob, alice, p.Visible, want); err != nil {
		return err
	}
	m, err := s.messages(ctx, s.cross, bob)
	if err != nil {
		return err
	}
	_, receipt := m.ReadReceipts[string(alice)]
	if err := expect(receipt == want, "%s sees %s's read receipt: got %v, want %v", bob, alice, receipt, want); err != nil {
		return err
	}
	if want {
		s.ok("%s sees %s's activity status (%q) and read receipts", bob, alice, p.Status)
	} else {
		s.ok("%s no longer sees %s's activity status or read receipts", bob, alice)
	}
	return nil
}

// announce: 2023-12-12, policy v2 is published ahead of its effective time.
func (s *story) announce(ctx context.Context) error {
	s.clock.Set(time.Date(2023, 12, 12, 9, 0, 0, 0, time.UTC))
	s.heading("Meta announces the end of cross-app chat")
	if err := s.publish(ctx, "v2-2023-12-cross-app-disconnect.json"); err != nil {
		return err
	}
	st, err := s.waitState(ctx, 2)
	if err != nil {
		return err
	}
	if err := expect(!st.Effective, "policy v2 must be scheduled, not effective, on 2023-12-12"); err != nil {
		return err
	}
	s.ok("policy v2 is scheduled for %s; v1 still decides", st.EffectiveAt.Format(time.RFC3339))
	if _, err := s.send(ctx, alice, s.cross, "did you hear? see you on the other app after the 14th"); err != nil {
		return err
	}
	last, err := s.n.Log().LastSeq(ctx)
	if err != nil {
		return err
	}
	s.preSeq = last
	s.preHash, err = s.historyChecksum(ctx, last)
	if err == nil {
		s.ok("history before the cutoff: %d events, sha256 %s", last, s.preHash[:16])
	}
	return err
}
