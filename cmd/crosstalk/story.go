package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/service"
)

// The seed story's cast.
const (
	alice = events.Account("instagram:alice")
	bob   = events.Account("messenger:bob")
	carol = events.Account("messenger:carol")
)

// story plays the seed story against a running node through NATS.
type story struct {
	n     *node.Node
	c     *client.Client
	clock *service.SimClock
	out   io.Writer
	cross string // the cross-app conversation
	same  string // the same-app conversation
	seq   uint64 // last stream seq this story wrote (for min_seq)

	preSeq  uint64 // last stream seq before the policy took effect
	preHash string // checksum of the history up to preSeq
}

func newStory(n *node.Node, clock *service.SimClock, out io.Writer) *story {
	return &story{n: n, c: client.New(n.Conn()), clock: clock, out: out}
}

func (s *story) play(ctx context.Context) error {
	acts := []func(context.Context) error{s.connect, s.chat, s.announce, s.disconnect, s.afterwards, s.proveHistory}
	for _, act := range acts {
		if err := act(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintln(s.out, "\nthe seed story played as the contract says.")
	return nil
}

func (s *story) heading(format string, args ...any) {
	fmt.Fprintf(s.out, "\n== %s  %s\n", s.clock.Now().Format("2006-01-02"), fmt.Sprintf(format, args...))
}

func (s *story) ok(format string, args ...any) {
	fmt.Fprintf(s.out, "  ✓ %s\n", fmt.Sprintf(format, args...))
}

func expect(cond bool, format string, args ...any) error {
	if !cond {
		return fmt.Errorf("demo expectation failed: "+format, args...)
	}
	return nil
}

func (s *story) command(ctx context.Context, actor events.Account, action string, body map[string]any) (api.CommandReply, error) {
	body["command_id"] = uuid.NewString()
	body["actor"] = actor
	r, err := s.c.Command(ctx, string(actor.App()), action, body)
	if err == nil && r.StreamSeq > s.seq {
		s.seq = r.StreamSeq
	}
	return r, err
}

// refused sends a command that must fail with code.
func (s *story) refused(ctx context.Context, actor events.Account, action, code string, body map[string]any) error {
	_, err := s.command(ctx, actor, action, body)
	if client.CodeOf(err) != code {
		return fmt.Errorf("demo expectation failed: %s by %s: want error %s, got %v", action, actor, code, err)
	}
	s.ok("%s by %s refused: %v", action, actor, err)
	return nil
}

func (s *story) publish(ctx context.Context, file string) error {
	data, err := policies.Read(file)
	if err != nil {
		return err
	}
	r, err := s.c.PublishPolicy(ctx, uuid.NewSHA1(policyNamespace, data).String(), json.RawMessage(data))
	if err != nil {
		return err
	}
	s.seq = max(s.seq, r.StreamSeq)
	s.ok("policy v%d published (%s) at stream seq %d", r.Version, file, r.StreamSeq)
	return nil
}

func (s *story) query(ctx context.Context, name string, req map[string]any, out any) error {
	req["min_seq"] = s.seq
	return s.c.Query(ctx, name, req, out)
}

func (s *story) presence(ctx context.Context, viewer, account events.Account) (api.PresenceView, error) {
	var p api.PresenceView
	err := s.query(ctx, "presence", map[string]any{"viewer": viewer, "account": account}, &p)
	return p, err
}

func (s *story) messages(ctx context.Context, conv string, viewer events.Account) (api.MessagePage, error) {
	var m api.MessagePage
	err := s.query(ctx, "messages", map[string]any{"conversation_id": conv, "viewer": viewer}, &m)
	return m, err
}

// historyChecksum hashes the stored bytes of stream seqs 1..upTo.
func (s *story) historyChecksum(ctx context.Context, upTo uint64) (string, error) {
	h := sha256.New()
	for seq := uint64(1); seq <= upTo; seq++ {
		m, err := s.n.Log().Get(ctx, seq)
		if err != nil {
			return "", fmt.Errorf("read seq %d: %w", seq, err)
		}
		h.Write(m.Data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// waitApplied polls crosstalk.query.policy until version v is applied.
func (s *story) waitApplied(ctx context.Context, v uint64) (api.PolicyStatus, error) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var rep api.PolicyReport
		if err := s.c.Query(ctx, "policy", map[string]any{}, &rep); err != nil {
			return api.PolicyStatus{}, err
		}
		for _, p := range rep.Versions {
			if p.Version == v && p.Applied {
				return p, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return api.PolicyStatus{}, fmt.Errorf("demo expectation failed: policy v%d not applied within 15s", v)
}
