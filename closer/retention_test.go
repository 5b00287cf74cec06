package closer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/clock"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// DueForRetention of memViews lists nothing: these views index no message.
func (v memViews) DueForRetention(time.Time, int) ([]projector.Due, error) { return nil, nil }

// Expire of memCommands expires nothing: the sweep's tests use sweepLog.
func (c *memCommands) Expire(context.Context, string, aggregate.ExpireContent, string) (bool, error) {
	return false, aggregate.ErrNotAffected
}

// Expire of decidingCommands expires nothing: the selection spec closes.
func (d *decidingCommands) Expire(context.Context, string, aggregate.ExpireContent, string) (bool, error) {
	return false, aggregate.ErrNotAffected
}

// sweepLog is what a retention sweep did, in order: the views it stands
// for take an expiry out of what is due, as the projector does.
type sweepLog struct {
	memViews
	memCommands
	mu    sync.Mutex
	due   []projector.Due
	steps []string
}

func (s *sweepLog) DueForRetention(before time.Time, limit int) ([]projector.Due, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, "due before "+before.Format(time.DateOnly))
	return slices.Clone(s.due[:min(limit, len(s.due))]), nil
}

func (s *sweepLog) Puncture(_ context.Context, account, conv string, lo, hi uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, fmt.Sprintf("puncture %s %s [%d, %d]", account, conv, lo, hi))
	return nil
}

func (s *sweepLog) Expire(_ context.Context, id string, cmd aggregate.ExpireContent, msgID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, fmt.Sprintf("expire %s through %d before %s v%d as %s", id, cmd.Through,
		cmd.Before.Format(time.DateOnly), cmd.PolicyVersion, msgID))
	s.due = slices.DeleteFunc(s.due, func(d projector.Due) bool { return d.ConversationID == id })
	return true, nil
}

func (s *sweepLog) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.steps
	s.steps = nil
	return out
}

// newSweeper is a closer under a policy of version 3 keeping content for
// days, on s's views, command path and keys, at sim's time.
func newSweeper(s *sweepLog, days int, sim *clock.Sim) *Closer {
	p := &aggregate.Policy{Version: 3, Name: "retain", ContentRetentionDays: days}
	return New(func() Views { return s }, &memLog{}, s, onePolicy{p}, Options{Clock: sim, Keys: s,
		RetentionPage: 1, Logger: testkit.Quiet()})
}

var day0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// A sweep punctures every sender's scope of a due conversation up to its
// Through, then appends content.expired, conversation after conversation,
// a page at a time; the next sweep waits for the interval, by the clock.
func TestRetentionSweepPuncturesThenExpires(t *testing.T) {
	s := &sweepLog{due: []projector.Due{
		{ConversationID: "c1", Through: 4, Senders: []string{"a:ann", "b:bob"}},
		{ConversationID: "c2", Through: 0, Senders: []string{"a:ann"}},
	}}
	sim := clock.NewSim(day0.Add(45 * 24 * time.Hour))
	c := newSweeper(s, 30, sim)
	c.tick(context.Background())
	want := []string{
		"due before 2026-01-16",
		"puncture a:ann c1 [0, 4]", "puncture b:bob c1 [0, 4]",
		"expire c1 through 4 before 2026-01-16 v3 as retention/3/c1/4",
		"due before 2026-01-16",
		"puncture a:ann c2 [0, 0]",
		"expire c2 through 0 before 2026-01-16 v3 as retention/3/c2/0",
		"due before 2026-01-16",
	}
	if got := s.take(); !slices.Equal(got, want) {
		t.Fatalf("the sweep did\n%q\nwant\n%q", got, want)
	}
	sim.Advance(30 * time.Second)
	c.tick(context.Background())
	if got := s.take(); len(got) != 0 {
		t.Fatalf("a sweep within the interval: %q", got)
	}
	sim.Advance(30 * time.Second)
	c.tick(context.Background())
	if got := s.take(); !slices.Equal(got, []string{"due before 2026-01-16"}) {
		t.Fatalf("the sweep a minute later did %q", got)
	}
}

// No sweep without Keys, under a policy without a retention rule, or on a
// node that does not hold the closer's lease.
func TestRetentionSweepNeedsKeysARuleAndTheLease(t *testing.T) {
	for name, tweak := range map[string]func(*Closer){
		"no keys":  func(c *Closer) { c.opts.Keys = nil },
		"no rule":  func(c *Closer) { c.policies = onePolicy{&aggregate.Policy{Version: 3, Name: "keep"}} },
		"no lease": func(c *Closer) { c.opts.Holding = func() (uint64, bool) { return 0, false } },
	} {
		s := &sweepLog{due: []projector.Due{{ConversationID: "c1", Through: 4, Senders: []string{"a:ann"}}}}
		c := newSweeper(s, 30, clock.NewSim(day0))
		tweak(c)
		if err := c.sweepRetention(context.Background()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := s.take(); len(got) != 0 {
			t.Fatalf("%s: the sweep did %q", name, got)
		}
	}
}

// Views that offer again what the sweep expired stop it, rather than make
// it loop.
func TestRetentionSweepStopsWhenTheViewsDoNotMove(t *testing.T) {
	s := &stuckViews{sweepLog{due: []projector.Due{{ConversationID: "c1", Through: 4, Senders: []string{"a:ann"}}}}}
	c := New(func() Views { return s }, &memLog{}, s, onePolicy{&aggregate.Policy{Version: 3, ContentRetentionDays: 1}},
		Options{Clock: clock.NewSim(day0), Keys: s, Logger: testkit.Quiet()})
	if err := c.sweepRetention(context.Background()); !errors.Is(err, ErrNoProgress) {
		t.Fatalf("sweep over stuck views: %v, want ErrNoProgress", err)
	}
}

// stuckViews never take an expiry out of what is due.
type stuckViews struct{ sweepLog }

func (s *stuckViews) Expire(context.Context, string, aggregate.ExpireContent, string) (bool, error) {
	return true, nil
}
