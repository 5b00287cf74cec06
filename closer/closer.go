// Package closer is crosstalk's policy scheduler and closer: it notices when
// a published policy takes effect and closes the open conversations that the
// policy no longer lets send, and the cross-app conversations of an account
// that withdrew its interoperability opt-in; under a retention rule it
// erases old content (retention.go). It reads the read model, appends
// closings to the event log, and sends what it cannot decide from the read
// model through the service's command path, each behind a small interface
// defined here (ports.go), so that the service depends on the closer and
// never the other way round.
package closer

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// ErrNotHolding stops a pass of the closer whose node lost the closer's
// lease (Options.Holding) in the middle of it.
var ErrNotHolding = errors.New("closer: this node no longer holds the closer's lease")

// Progress is how far the closer has got with one policy version.
type Progress struct {
	// Affected is, as of the latest scan, the conversations this version
	// closed before it plus those the scan found still to close.
	Affected int
	// Applied is set once both scans are done: every affected
	// conversation is closed.
	Applied bool
}

// closeStatus is a version's progress and when its next scan is due.
type closeStatus struct {
	Progress
	passes   int
	rescanAt time.Time
}

// Closer tracks closing per policy version, and opt-outs waiting to be
// applied. Status lives in memory: after a restart the closer scans again,
// and the scan finds only what is left. Build it with New and run it with
// Run.
type Closer struct {
	// invalid is what Options.Validate found wrong with New's options.
	invalid  error
	views    func() Views
	log      Log
	commands Commands
	policies Policies
	opts     Options
	kick     chan struct{}
	// inForce is the policy version last seen in force, read and written
	// by Run's goroutine alone, to log each transition once.
	inForce uint64
	// announced is the policy version whose visibility notes the views
	// published last (announce); Run's goroutine alone uses it.
	announced uint64
	// swept is when, by Options.Clock, the last retention sweep began;
	// Run's goroutine alone uses it.
	swept time.Time

	mu      sync.Mutex
	status  map[uint64]*closeStatus
	optOuts []OptOut
}

// OptOut is a withdrawn interoperability opt-in whose conversations are
// still to close.
type OptOut struct {
	Account events.Account
	Seq     uint64 // the settings.changed event's stream sequence
	EventID string // its id: the closings' causation
}

// New builds a closer. views returns the read model to scan now: the
// service swaps its read model, so the closer asks for the current one each
// time rather than keeping one.
func New(views func() Views, log Log, commands Commands, policies Policies, opts Options) *Closer {
	invalid := opts.Validate()
	opts.EnsureDefaults()
	return &Closer{invalid: invalid,
		views: views, log: log, commands: commands, policies: policies, opts: opts,
		kick:   make(chan struct{}, 1),
		status: map[uint64]*closeStatus{},
	}
}

// Versions reports the closer's progress with every policy version it has
// scanned for.
func (c *Closer) Versions() map[uint64]Progress {
	c.mu.Lock()
	defer c.mu.Unlock()
	all := make(map[uint64]Progress, len(c.status))
	for v, st := range c.status {
		all[v] = st.Progress
	}
	return all
}

// Status reports the closer's progress with policy version v; the zero
// Progress if it has not scanned for it.
func (c *Closer) Status(v uint64) Progress {
	return c.get(v).Progress
}

func (c *Closer) get(v uint64) closeStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.status[v]; ok {
		return *st
	}
	return closeStatus{}
}

func (c *Closer) update(v uint64, f func(*closeStatus)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.status[v]
	if !ok {
		st = &closeStatus{}
		c.status[v] = st
	}
	f(st)
}

// QueueOptOut queues o for the next tick and wakes the scheduler.
func (c *Closer) QueueOptOut(o OptOut) {
	c.addOptOut(o)
	c.Kick()
}

func (c *Closer) addOptOut(o OptOut) {
	c.mu.Lock()
	c.optOuts = append(c.optOuts, o)
	c.mu.Unlock()
}

func (c *Closer) takeOptOuts() []OptOut {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.optOuts
	c.optOuts = nil
	return o
}

// Kick wakes the scheduler now rather than at the next CheckInterval, as
// after a publish. It never blocks: a wake-up already pending suffices.
func (c *Closer) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Run wakes every CheckInterval, or at once after a Kick, catches up with
// policies published elsewhere, and closes what the policy in force no
// longer allows, and sweeps for content a retention rule erases (at most
// every RetentionInterval), until ctx is done. A policy whose effective_at is in the
// future is simply not in force yet; when the clock passes it, the next
// tick applies it, also after a restart. Failures are logged and retried on
// the next tick, so Run returns nil, unless New's options were invalid
// (Options.Validate): then it returns that error at once.
func (c *Closer) Run(ctx context.Context) error {
	if c.invalid != nil {
		return c.invalid
	}
	t := time.NewTicker(c.opts.CheckInterval)
	defer t.Stop()
	for {
		c.tick(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-c.kick:
		}
	}
}

func (c *Closer) tick(ctx context.Context) {
	warn := func(what string, err error) {
		if err != nil && ctx.Err() == nil {
			c.opts.Logger.Warn(what, slog.Any("err", err))
		}
	}
	warn("refresh policies", c.policies.Refresh(ctx))
	warn("apply policy", c.applyDue(ctx))
	warn("retention sweep", c.sweepRetention(ctx))
	for _, o := range c.takeOptOuts() {
		if err := c.closeOptOut(ctx, o); err != nil {
			c.addOptOut(o) // try again on the next tick
			warn("apply opt-out", err)
		}
	}
}

// applyDue runs the closer for the policy in force. It scans twice: once as
// soon as the policy takes effect, and again CloseGrace later, because a
// command decided just before the effective time may append just after the
// first scan.
func (c *Closer) applyDue(ctx context.Context) error {
	now := c.opts.Clock.Now()
	p := c.policies.At(now)
	if p == nil {
		return nil
	}
	c.noteInForce(p.Version)
	term, held := c.opts.Holding()
	if !held {
		return nil // another node's closer applies it
	}
	st := c.get(p.Version)
	if st.Applied {
		return c.announce(ctx, p.Version, now)
	}
	if st.passes == 1 && time.Now().Before(st.rescanAt) {
		return nil
	}
	closed, err := c.closeAffected(ctx, p)
	if errors.Is(err, ErrNotHolding) {
		c.opts.Logger.Warn("policy closer pass stopped: the lease is lost", slog.Uint64("policy_version", p.Version),
			slog.Int("closed", closed), slog.Uint64("term", term))
		return nil
	}
	if err != nil {
		return err
	}
	c.update(p.Version, func(st *closeStatus) {
		st.passes++
		st.rescanAt = time.Now().Add(c.opts.CloseGrace)
		st.Applied = st.passes >= 2
	})
	c.opts.Logger.Info("policy closer pass", slog.Uint64("policy_version", p.Version),
		slog.Int("closed", closed), slog.Int("pass", st.passes+1), slog.Uint64("term", term))
	if !c.get(p.Version).Applied {
		return nil
	}
	return c.announce(ctx, p.Version, now)
}

// announce has the views tell the live feeds what policy version v hides
// or reveals (projector.Store.PolicyTookEffect), once both passes have
// closed what they close and the views have applied those closings: a
// client learns that its chat is read-only before, or with, that a
// contact's status is hidden. The views keep which versions they
// announced, so a restart, or a tick after a failure, does not repeat one.
// It runs after the version is reported applied, not between the passes:
// scanning every conversation for the notes took a second of 100,000
// closings, and the policy's status waited for it (bench policy_close).
func (c *Closer) announce(ctx context.Context, v uint64, now time.Time) error {
	if c.announced == v {
		return nil
	}
	if err := c.catchUpViews(ctx); err != nil {
		return err
	}
	sent, err := c.views().PolicyTookEffect(v, now)
	if err != nil {
		return err
	}
	c.announced = v
	if sent > 0 {
		c.opts.Logger.Info("policy visibility announced", slog.Uint64("policy_version", v), slog.Int("notes", sent))
	}
	return nil
}

// noteInForce logs once each time the policy in force changes version.
func (c *Closer) noteInForce(v uint64) {
	if v == c.inForce {
		return
	}
	c.opts.Logger.Info("policy in force", slog.Uint64("policy_version", v),
		slog.Uint64("previous_version", c.inForce))
	c.inForce = v
}
