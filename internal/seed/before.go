package seed

import (
	"context"
	"time"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Connect is 2020: policy v1 links the apps, Alice starts a cross-app
// conversation with Bob and Bob a same-app one with Carol.
func (s *Story) Connect(ctx context.Context) error {
	s.heading("Instagram and Messenger connect")
	if err := s.publish(ctx, "v1-2020-cross-app.json"); err != nil {
		return err
	}
	r, err := s.command(ctx, Alice, "conversation.start", map[string]any{"participants": []events.Account{Bob}})
	if err != nil {
		return err
	}
	s.Cross = r.ConversationID
	s.ok("%s starts cross-app conversation %s with %s", Alice, s.Cross, Bob)
	r, err = s.command(ctx, Bob, "conversation.start", map[string]any{"participants": []events.Account{Carol}})
	if err != nil {
		return err
	}
	s.Same = r.ConversationID
	s.ok("%s starts same-app conversation %s with %s", Bob, s.Same, Carol)
	return nil
}

func (s *Story) send(ctx context.Context, actor events.Account, conv, text string) (string, error) {
	r, err := s.command(ctx, actor, "message.send", map[string]any{"conversation_id": conv, "text": text})
	if err != nil {
		return "", err
	}
	s.ok("%s: %q", actor, text)
	return r.MessageID, nil
}

func (s *Story) read(ctx context.Context, actor events.Account, conv, msg string) error {
	_, err := s.command(ctx, actor, "message.read", map[string]any{"conversation_id": conv, "message_id": msg})
	if err == nil {
		s.ok("%s reads up to message %s", actor, msg)
	}
	return err
}

// Chat is an hour later: messages both ways, read receipts and activity
// status, all visible; and Bob writes to Carol.
func (s *Story) Chat(ctx context.Context) error {
	s.clock.Advance(time.Hour)
	var err error
	if s.M1, err = s.send(ctx, Alice, s.Cross, "hey Bob, it's Alice on Instagram"); err != nil {
		return err
	}
	if s.M2, err = s.send(ctx, Bob, s.Cross, "hi Alice! Bob here, on Messenger"); err != nil {
		return err
	}
	if err := s.read(ctx, Bob, s.Cross, s.M1); err != nil {
		return err
	}
	if err := s.read(ctx, Alice, s.Cross, s.M2); err != nil {
		return err
	}
	for _, a := range []events.Account{Alice, Bob} {
		if _, err := s.command(ctx, a, "presence.set", map[string]any{"status": "active"}); err != nil {
			return err
		}
	}
	if _, err := s.send(ctx, Bob, s.Same, "lunch tomorrow, Carol?"); err != nil {
		return err
	}
	return s.seesAlice(ctx, true)
}

// seesAlice checks what Bob (Messenger) sees of Alice (Instagram).
func (s *Story) seesAlice(ctx context.Context, want bool) error {
	p, err := s.presence(ctx, Bob, Alice)
	if err != nil {
		return err
	}
	if err := expect(p.Visible == want, "%s sees %s's activity status: got %v, want %v", Bob, Alice, p.Visible, want); err != nil {
		return err
	}
	m, err := s.messages(ctx, s.Cross, Bob)
	if err != nil {
		return err
	}
	_, receipt := m.ReadReceipts[string(Alice)]
	if err := expect(receipt == want, "%s sees %s's read receipt: got %v, want %v", Bob, Alice, receipt, want); err != nil {
		return err
	}
	if want {
		s.ok("%s sees %s's activity status (%q) and read receipts", Bob, Alice, p.Status)
	} else {
		s.ok("%s no longer sees %s's activity status or read receipts", Bob, Alice)
	}
	return nil
}

// Announce is 2023-12-12: policy v2 is published ahead of its effective
// time, v1 still decides, Alice writes once more, and the story takes the
// checksum of the history before the cut-off (Before).
func (s *Story) Announce(ctx context.Context) error {
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
	if _, err := s.send(ctx, Alice, s.Cross, "did you hear? see you on the other app after the 14th"); err != nil {
		return err
	}
	return s.checksumBefore(ctx)
}

// checksumBefore takes audit.Checksum up to the last sequence before the
// policy takes effect: the sum ProveHistory must find again afterwards.
func (s *Story) checksumBefore(ctx context.Context) error {
	last, err := s.log.LastSeq(ctx)
	if err != nil {
		return err
	}
	if s.Before, err = audit.Checksum(ctx, s.log, last); err != nil {
		return err
	}
	s.ok("history before the cutoff: %d events, audit checksum --until-seq %d:", s.Before.Events, last)
	s.checksum(s.Before)
	return nil
}
