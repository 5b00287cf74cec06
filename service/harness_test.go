package service_test

import (
	"context"
	"encoding/json"
	"github.com/crosstalk-dev/crosstalk/clock"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, testkit.ServerLeaks...) }

// Pin the adapters to the interfaces the service consumes.
var (
	_ service.Log            = (*eventlog.Log)(nil)
	_ service.PartitionedLog = (*eventlog.Log)(nil)
	_ projector.Source       = (*eventlog.Log)(nil)
	_ projector.Streams      = (*eventlog.Log)(nil)
)

// harness is one crosstalk service on a real in-process nats-server and a
// real Pebble store, driven through NATS like any producer.
type harness struct {
	t      *testing.T
	srv    *natstest.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	log    *eventlog.Log
	audit  *eventlog.Rejections
	store  *projector.Store
	svc    *service.Service
	c      *client.Client
	clock  *clock.Sim
	stop   func()
	mu     sync.Mutex // guards seq: producers in a test may run in parallel
	seq    uint64
	ctx    context.Context
	viewsD string
	signer *events.Signer // signs the log's appends, as a node's does
	// wrapLog, when set, wraps the log the service is given (to count or
	// hold its calls); the harness itself uses the log unwrapped.
	wrapLog func(service.Log) service.Log
	// feeds, when set, are the live feeds of the views (feed_test.go).
	feeds projector.Feeds
}

// harnessNode is the node id of the harness's service, unless a test
// gives another.
const harnessNode = "harness"

var seedStart = time.Date(2020, 10, 1, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, srv: natstest.Start(t), clock: clock.NewSim(seedStart), ctx: context.Background()}
	h.viewsD = t.TempDir()
	h.nc = h.srv.Connect(t)
	h.c = client.New(h.nc)
	h.start(service.Options{})
	return h
}

// start opens the log and the store and runs a service until the test ends
// or restart is called.
func (h *harness) start(opts service.Options) {
	t := h.t
	var err error
	h.js, err = jetstream.New(h.nc)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if h.signer == nil {
		h.signer = testkit.Signer(t)
	}
	if h.log, err = eventlog.Open(h.ctx, h.js, eventlog.Options{Logger: opts.Logger, Signer: h.signer}); err != nil {
		t.Fatal(err)
	}
	if h.store, err = projector.Open(projector.Options{Dir: h.viewsD, Logger: opts.Logger, Feeds: h.feeds, Now: h.clock.Now}); err != nil {
		t.Fatal(err)
	}
	if h.audit, err = eventlog.OpenRejections(h.ctx, h.js, eventlog.RejectionsOptions{Logger: opts.Logger}); err != nil {
		t.Fatal(err)
	}
	opts.Rejections = h.audit
	if opts.Rebuilds == nil {
		opts.Rebuilds = &dirRebuilds{h: h}
	}
	opts.Clock = h.clock
	setIfZero(&opts.PolicyCheckInterval, 10*time.Millisecond)
	setIfZero(&opts.CloseGrace, 50*time.Millisecond)
	if opts.NodeID == "" {
		opts.NodeID = harnessNode
	}
	var log service.Log = h.log
	if h.wrapLog != nil {
		log = h.wrapLog(h.log)
	}
	h.svc = service.New(h.nc, log, h.store, opts)
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() { done <- h.svc.Run(ctx) }()
	stopped := false
	h.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("service run: %v", err)
		}
		if err := h.store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	}
	t.Cleanup(h.stop)
	select {
	case <-h.svc.Ready():
	case err := <-done:
		t.Fatalf("service stopped before ready: %v", err)
	}
}

func (h *harness) restart(opts service.Options) {
	h.stop()
	h.start(opts)
}

func setIfZero(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

// cmd sends a command as actor with a fresh command id.
func (h *harness) cmd(actor events.Account, action string, body map[string]any) (api.CommandReply, error) {
	h.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["command_id"]; !ok {
		body["command_id"] = uuid.NewString()
	}
	body["actor"] = actor
	h.clock.Advance(time.Second) // the simulated clock ticks like a real one
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	r, err := h.c.Command(ctx, string(actor.App()), action, body)
	if err == nil {
		h.saw(r.StreamSeq)
	}
	return r, err
}

// must is cmd that fails the test on error.
func (h *harness) must(actor events.Account, action string, body map[string]any) api.CommandReply {
	h.t.Helper()
	r, err := h.cmd(actor, action, body)
	if err != nil {
		h.t.Fatalf("%s by %s: %v", action, actor, err)
	}
	return r
}

// refused checks that a command fails with code and appends nothing.
func (h *harness) refused(code string, actor events.Account, action string, body map[string]any) *client.Error {
	h.t.Helper()
	before := h.lastSeq()
	_, err := h.cmd(actor, action, body)
	if got := client.CodeOf(err); got != code {
		h.t.Fatalf("%s by %s: want error %s, got %v", action, actor, code, err)
	}
	if after := h.lastSeq(); after != before {
		h.t.Fatalf("%s by %s was refused but the stream grew from %d to %d", action, actor, before, after)
	}
	return err.(*client.Error)
}

// query asks with min_seq of the last write, so reads see this test's writes.
func (h *harness) query(name string, req map[string]any, out any) error {
	h.t.Helper()
	h.mu.Lock()
	req["min_seq"] = h.seq
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	return h.c.Query(ctx, name, req, out)
}

func (h *harness) mustQuery(name string, req map[string]any, out any) {
	h.t.Helper()
	if err := h.query(name, req, out); err != nil {
		h.t.Fatalf("query %s: %v", name, err)
	}
}

func (h *harness) lastSeq() uint64 {
	h.t.Helper()
	seq, err := h.log.LastSeq(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	return seq
}

func (h *harness) publishFile(name string) api.PublishReply {
	h.t.Helper()
	data, err := policies.Read(name)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.publish(json.RawMessage(data))
}

func (h *harness) publish(policy json.RawMessage) api.PublishReply {
	h.t.Helper()
	r, err := h.c.PublishPolicy(h.ctx, uuid.NewString(), policy)
	if err != nil {
		h.t.Fatalf("publish policy: %v", err)
	}
	h.saw(r.StreamSeq)
	return r
}

// saw records a sequence this test wrote, for min_seq.
func (h *harness) saw(seq uint64) {
	h.mu.Lock()
	h.seq = max(h.seq, seq)
	h.mu.Unlock()
}

// waitApplied waits until the policy report says version v is applied.
func (h *harness) waitApplied(v uint64) api.PolicyStatus {
	h.t.Helper()
	return testkit.WaitPolicyApplied(h.t, h.policyReport, v)
}

// policyReport asks crosstalk.query.policy.
func (h *harness) policyReport() (api.PolicyReport, error) {
	var rep api.PolicyReport
	err := h.query("policy", map[string]any{}, &rep)
	return rep, err
}
