// Package seed is crosstalk's seed story, the December 2023
// Instagram–Messenger cut-off, as one script: its cast (alice on Instagram,
// bob and carol on Messenger), its steps and the checks after each step.
// It plays against any running crosstalk through NATS, as a producer
// would, so that the demo and the tests tell the same story: the demo
// prints each step, the tests check more on top of it.
//
// The story: policy v1 (2020) lets the apps talk; alice and bob chat, read
// each other and see each other's activity; policy v2 is published on
// 2023-12-12 for 2023-12-14; once the clock passes it, the cross-app
// conversation is closed by policy and read-only, new cross-app
// conversations and calls are refused, the old messages are still listed,
// bob loses alice's activity status and read receipts, bob and carol carry
// on, and the history from before the cut-off has the same audit.Checksum
// before and after it.
package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/events"
)

// The seed story's cast.
const (
	Alice = events.Account("instagram:alice")
	Bob   = events.Account("messenger:bob")
	Carol = events.Account("messenger:carol")
	// Eve is the Instagram account a lying Messenger client claims to view
	// as, in the demo's refusals.
	Eve = events.Account("instagram:eve")
)

// Apps are the seed story's apps, the Instagram and Messenger of December
// 2023 and a third-party app that the DMA policy v3 lets in: what `crosstalk
// auth init` configures by default.
var Apps = []string{"instagram", "messenger", "thirdparty-birdychat"}

// SampleUsers gives each app's sample end user in a generated identity
// configuration: alice and bob of the story, and zed on the third-party app.
var SampleUsers = map[string]string{"instagram": "alice", "messenger": "bob", "thirdparty-birdychat": "zed"}

// Start is when the story's simulated clock should start: just after
// cross-app messaging was switched on in 2020.
var Start = time.Date(2020, 10, 1, 12, 0, 0, 0, time.UTC)

// ErrCheck is wrapped by the error of a failed check; the error's text
// names the check.
var ErrCheck = errors.New("seed story check failed")

// Clock is the simulated clock the service decides by: the story moves it
// from 2020 to December 2023. *clock.Sim implements it.
type Clock interface {
	Now() time.Time
	Set(t time.Time)
	Advance(d time.Duration)
}

// Log is what the story reads of the event log to prove the history
// unchanged: audit.Checksum reads it, and so does the listing of what the
// policy change appended. *eventlog.Log implements it.
type Log interface {
	audit.Log
}

// Config is the crosstalk a story plays against.
type Config struct {
	// Client sends the story's commands and queries, and publishes its
	// policies, unless Apps or Admin say otherwise.
	Client *client.Client
	// Apps, if set, gives the client of each app: under an identity
	// configuration, an app acts and views only as its own accounts, so
	// alice's commands go through Instagram's connection and bob's through
	// Messenger's. Default: Client for every app.
	Apps func(events.App) *client.Client
	// Admin, if set, publishes the policies and reads the policy report.
	// Default: Client.
	Admin *client.Client
	// Clock is the service's simulated clock.
	Clock Clock
	// Log is the service's event log.
	Log Log
	// Out receives each step and check as text; nil discards it.
	Out io.Writer
	// Tick moves the clock before each command. The demo leaves it 0 (its
	// 2020 chat happens in one instant); a test that checks an order by
	// time (an inbox, newest first) ticks like a real clock.
	Tick time.Duration
}

// Story plays the seed story. Its acts run in order, each after the
// previous one; the fields are the ids the acts made, for callers that
// check more than the story does.
type Story struct {
	apps  func(events.App) *client.Client
	admin *client.Client
	clock Clock
	log   Log
	out   io.Writer
	tick  time.Duration
	seq   uint64 // last stream seq this story wrote (for min_seq)

	// Cross is alice's and bob's cross-app conversation (Connect).
	Cross string
	// Same is bob's and carol's same-app conversation (Connect).
	Same string
	// M1 and M2 are alice's and bob's first messages in Cross (Chat).
	M1, M2 string
	// Before is the checksum of the history just before the cut-off,
	// taken on 2023-12-12 (Announce).
	Before audit.Sum
}

// New returns a story that has not started.
func New(cfg Config) *Story {
	out := cfg.Out
	if out == nil {
		out = io.Discard
	}
	apps, admin := cfg.Apps, cfg.Admin
	if apps == nil {
		apps = func(events.App) *client.Client { return cfg.Client }
	}
	if admin == nil {
		admin = cfg.Client
	}
	return &Story{apps: apps, admin: admin, clock: cfg.Clock, log: cfg.Log, out: out, tick: cfg.Tick}
}

// Play plays every act in order and stops at the first failed check.
func (s *Story) Play(ctx context.Context) error {
	acts := []func(context.Context) error{s.Connect, s.Chat, s.Announce, s.Disconnect, s.Afterwards, s.ProveHistory}
	for _, act := range acts {
		if err := act(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintln(s.out, "\nthe seed story played as the contract says.")
	return nil
}

// Seq is the last stream sequence the story's commands wrote.
func (s *Story) Seq() uint64 { return s.seq }

func (s *Story) heading(format string, args ...any) {
	fmt.Fprintf(s.out, "\n== %s  %s\n", s.clock.Now().Format("2006-01-02"), fmt.Sprintf(format, args...))
}

func (s *Story) ok(format string, args ...any) {
	fmt.Fprintf(s.out, "  ✓ %s\n", fmt.Sprintf(format, args...))
}

// checksum prints sum as `crosstalk audit checksum` does (docs/audit.md),
// under the check it proves, so that an auditor can compare the two.
func (s *Story) checksum(sum audit.Sum) {
	fmt.Fprintf(s.out, "      sha256: %s\n      events: %d\n      until seq: %d\n", sum.Hex, sum.Events, sum.UntilSeq)
}

func expect(cond bool, format string, args ...any) error {
	if !cond {
		return fmt.Errorf("%w: %s", ErrCheck, fmt.Sprintf(format, args...))
	}
	return nil
}

func (s *Story) command(ctx context.Context, actor events.Account, action string, body map[string]any) (api.CommandReply, error) {
	body["command_id"] = uuid.NewString()
	body["actor"] = actor
	s.clock.Advance(s.tick)
	r, err := s.apps(actor.App()).Command(ctx, string(actor.App()), action, body)
	if err == nil && r.StreamSeq > s.seq {
		s.seq = r.StreamSeq
	}
	return r, err
}

// refused sends a command that must fail with code.
func (s *Story) refused(ctx context.Context, actor events.Account, action, code string, body map[string]any) error {
	_, err := s.command(ctx, actor, action, body)
	if client.CodeOf(err) != code {
		return fmt.Errorf("%w: %s by %s: want error %s, got %v", ErrCheck, action, actor, code, err)
	}
	s.ok("%s by %s refused: %v", action, actor, err)
	return nil
}

func (s *Story) publish(ctx context.Context, file string) error {
	data, err := policies.Read(file)
	if err != nil {
		return err
	}
	r, err := s.admin.PublishPolicy(ctx, client.PolicyCommandID(data), json.RawMessage(data))
	if err != nil {
		return err
	}
	s.seq = max(s.seq, r.StreamSeq)
	s.ok("policy v%d published (%s) at stream seq %d", r.Version, file, r.StreamSeq)
	return nil
}

// query asks as viewer, through its app's client.
func (s *Story) query(ctx context.Context, viewer events.Account, name string, req map[string]any, out any) error {
	req["min_seq"] = s.seq
	return s.apps(viewer.App()).Query(ctx, name, req, out)
}

func (s *Story) presence(ctx context.Context, viewer, account events.Account) (api.PresenceView, error) {
	var p api.PresenceView
	err := s.query(ctx, viewer, "presence", map[string]any{"viewer": viewer, "account": account}, &p)
	return p, err
}

func (s *Story) messages(ctx context.Context, conv string, viewer events.Account) (api.MessagePage, error) {
	var m api.MessagePage
	err := s.query(ctx, viewer, "messages", map[string]any{"conversation_id": conv, "viewer": viewer}, &m)
	return m, err
}

// waitState returns the policy report entry of version v.
func (s *Story) waitState(ctx context.Context, v uint64) (api.PolicyStatus, error) {
	var rep api.PolicyReport
	if err := s.admin.Query(ctx, "policy", map[string]any{"min_seq": s.seq}, &rep); err != nil {
		return api.PolicyStatus{}, err
	}
	for _, p := range rep.Versions {
		if p.Version == v {
			return p, nil
		}
	}
	return api.PolicyStatus{}, fmt.Errorf("%w: policy v%d not reported", ErrCheck, v)
}

// waitApplied polls crosstalk.query.policy until version v is applied.
func (s *Story) waitApplied(ctx context.Context, v uint64) (api.PolicyStatus, error) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var rep api.PolicyReport
		if err := s.admin.Query(ctx, "policy", map[string]any{}, &rep); err != nil {
			return api.PolicyStatus{}, err
		}
		for _, p := range rep.Versions {
			if p.Version == v && p.Applied {
				return p, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return api.PolicyStatus{}, fmt.Errorf("%w: policy v%d not applied within 15s", ErrCheck, v)
}
