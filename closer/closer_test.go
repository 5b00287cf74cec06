package closer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// These tests drive the closer through its interfaces with small in-memory
// stand-ins; the service's tests (lifecycle_test.go) run it end to end on
// NATS and Pebble.

// memViews is a read model of cross-app conversations, all open.
type memViews struct {
	heads map[string]projector.ConversationHead
}

func (v memViews) WaitFor(context.Context, uint64) error { return nil }

// PolicyTookEffect publishes nothing: these views have no feeds.
func (v memViews) PolicyTookEffect(uint64, time.Time) (int, error) { return 0, nil }

func (v memViews) OpenConversations(fn func(string, []events.App) error) error {
	for _, id := range slices.Sorted(maps.Keys(v.heads)) {
		if err := fn(id, events.AppsOf(v.heads[id].Participants)); err != nil {
			return err
		}
	}
	return nil
}

func (v memViews) ConversationHeads(ids []string, fn func(projector.ConversationHead) error) error {
	for _, id := range ids {
		if h, ok := v.heads[id]; ok {
			if err := fn(h); err != nil {
				return err
			}
		}
	}
	return nil
}

func (v memViews) Poisoned() ([]api.Poisoned, error) { return nil, nil }

func (v memViews) Conversation(id string) (api.ConversationView, error) {
	h := v.heads[id]
	parts := make([]string, len(h.Participants))
	for i, a := range h.Participants {
		parts[i] = string(a)
	}
	return api.ConversationView{
		ConversationID: h.ConversationID, Participants: parts, CrossApp: h.CrossApp, Closed: h.Closed,
		ClosedByPolicy: h.ClosedByPolicy, CloseReason: h.CloseReason, Version: h.Version,
	}, nil
}

func (v memViews) Inbox(events.Account, int, api.Cursor) (api.InboxPage, error) {
	return api.InboxPage{}, nil
}

func (v memViews) Policies() ([]projector.PolicyView, error) { return nil, nil }

// memLog refuses the appends to the subjects in conflict, as JetStream does
// when the subject moved on, fails those to the subjects in fail, and
// accepts the others.
type memLog struct {
	mu       sync.Mutex
	conflict map[string]bool
	fail     map[string]bool
	appended []string
}

func (l *memLog) LastSeq(context.Context) (uint64, error) { return 100, nil }

func (l *memLog) AppendAll(_ context.Context, entries []eventlog.Entry) []eventlog.Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]eventlog.Result, len(entries))
	for i, e := range entries {
		if l.conflict[e.Subject] {
			out[i].Err = eventlog.ErrConflict
			continue
		}
		if l.fail[e.Subject] {
			out[i].Err = eventlog.ErrUnavailable
			continue
		}
		l.appended = append(l.appended, e.Subject)
		out[i].Seq = uint64(1000 + len(l.appended))
	}
	return out
}

// memCommands is the command path: it records what it was asked to close.
type memCommands struct {
	mu        sync.Mutex
	closed    []string
	forgotten []string
}

func (c *memCommands) Close(_ context.Context, id string, cmd aggregate.Close, msgID string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !strings.HasSuffix(msgID, "/"+id) || !strings.HasPrefix(msgID, cmd.CommandID) {
		return false, aggregate.ErrInvalid
	}
	c.closed = append(c.closed, id)
	return true, nil
}

func (c *memCommands) OptIns(context.Context, []events.Account) (map[events.Account]bool, error) {
	return nil, nil
}

func (c *memCommands) Forget(subject string) {
	c.mu.Lock()
	c.forgotten = append(c.forgotten, subject)
	c.mu.Unlock()
}

// onePolicy is a policy in force from the start, published by event "ev-2".
type onePolicy struct{ p *aggregate.Policy }

func (o onePolicy) Refresh(context.Context) error  { return nil }
func (o onePolicy) At(time.Time) *aggregate.Policy { return o.p }
func (o onePolicy) EventID(v uint64) string        { return fmt.Sprint("ev-", v) }

// crossApp returns the heads of n open cross-app conversations.
func crossApp(n int) map[string]projector.ConversationHead {
	heads := map[string]projector.ConversationHead{}
	for i := range n {
		id := string(rune('a' + i))
		heads[id] = projector.ConversationHead{
			ConversationID: id, CrossApp: true, Version: 3,
			Participants: []events.Account{"alpha:ann", "beta:bob"},
			LastSeq:      uint64(10 + i), LastHash: "h",
		}
	}
	return heads
}

func newTestCloser(heads map[string]projector.ConversationHead, log Log, cmds *memCommands, grace time.Duration) *Closer {
	deny := &aggregate.Policy{Version: 2, Name: "apart"}
	views := func() Views { return memViews{heads: heads} }
	return New(views, log, cmds, onePolicy{deny}, Options{CloseRun: 2, CloseGrace: grace,
		Logger: testkit.Quiet()})
}

// A closing whose append conflicts (the conversation moved on since the
// views saw it) goes through the command path; the others are appended in
// runs from the heads, and their cached states forgotten.
func TestConflictedClosingTakesTheCommandPath(t *testing.T) {
	log := &memLog{conflict: map[string]bool{events.ConversationSubject("b"): true}}
	cmds := &memCommands{}
	c := newTestCloser(crossApp(5), log, cmds, time.Hour)
	if err := c.applyDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(log.appended) != 4 || !slices.Equal(cmds.closed, []string{"b"}) {
		t.Fatalf("appended from the heads %v, through the command path %v", log.appended, cmds.closed)
	}
	if !slices.Equal(cmds.forgotten, log.appended) {
		t.Fatalf("forgot %v, appended %v", cmds.forgotten, log.appended)
	}
	if st := c.Status(2); st.Affected != 5 || st.Applied {
		t.Fatalf("after the first scan: %+v", st)
	}
}

// An append that fails for another reason than a conflict stops the
// closing: no later run is appended, the error names the conversation,
// and the failed scan does not count as a pass.
func TestFailedAppendStopsTheRuns(t *testing.T) {
	log := &memLog{fail: map[string]bool{events.ConversationSubject("b"): true}}
	cmds := &memCommands{}
	c := newTestCloser(crossApp(7), log, cmds, time.Hour)
	err := c.applyDue(context.Background())
	if !errors.Is(err, eventlog.ErrUnavailable) || !strings.Contains(err.Error(), "close b") {
		t.Fatalf("applyDue: %v; want the failed append of b", err)
	}
	if !slices.Equal(log.appended, []string{events.ConversationSubject("a")}) || len(cmds.closed) != 0 {
		t.Fatalf("appended %v, through the command path %v; want only a, from the first run", log.appended, cmds.closed)
	}
	if st := c.get(2); st.passes != 0 {
		t.Fatalf("a failed scan counted as a pass: %+v", st)
	}
}

// Without a batch appender every closing goes through the command path.
func TestLogWithoutAppendAllClosesOneByOne(t *testing.T) {
	cmds := &memCommands{}
	c := newTestCloser(crossApp(3), lastSeqOnly{}, cmds, time.Hour)
	if err := c.applyDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	slices.Sort(cmds.closed)
	if !slices.Equal(cmds.closed, []string{"a", "b", "c"}) {
		t.Fatalf("closed through the command path: %v", cmds.closed)
	}
}

type lastSeqOnly struct{}

func (lastSeqOnly) LastSeq(context.Context) (uint64, error) { return 1, nil }

// A version is applied after the second scan, CloseGrace after the first;
// Run rescans on a Kick, and not before the grace has passed.
func TestAppliedAfterTheSecondScan(t *testing.T) {
	cmds := &memCommands{}
	c := newTestCloser(crossApp(1), lastSeqOnly{}, cmds, 50*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	start := time.Now()
	for !c.Status(2).Applied && time.Now().Before(deadline) {
		c.Kick()
		time.Sleep(time.Millisecond)
	}
	if !c.Status(2).Applied {
		t.Fatal("not applied within 5s")
	}
	if since := time.Since(start); since < 50*time.Millisecond {
		t.Fatalf("applied %v after the start, before CloseGrace", since)
	}
	if got := c.Status(7); got != (Progress{}) {
		t.Fatalf("an unknown version: %+v", got)
	}
}
