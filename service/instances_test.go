package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/service"
)

// Several instances on one NATS share the command endpoints as a queue
// group, so commands on one conversation are decided by different
// processes at once. Optimistic concurrency must keep each conversation's
// history a gapless hash chain with every acknowledged command in it once,
// and a 409 conflict is only ever the answer when a command lost more than
// MaxRetries races in a row; a producer that retries it (same command id)
// gets it stored once.
//
// With MaxRetries 1 the races exhaust it dozens of times per run (28 to 43
// of 300 sends measured). With the default (5) they still do now and then
// under this hammer (one 409 in eight runs of 300 sends): a loser reloads
// the conversation before each retry while the winning instance's next
// command appends at once, so losses come in streaks. The test therefore
// counts those 409s rather than requiring none; docs/reliability.md has the
// figures.
func TestInstancesRaceOnTheSameConversations(t *testing.T) {
	for _, tc := range []struct {
		name       string
		maxRetries int  // 0: the default
		mustSee    bool // whether 409s must be seen
	}{
		{name: "MaxRetries=1", maxRetries: 1, mustSee: true},
		{name: "default MaxRetries", maxRetries: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := service.Options{MaxRetries: tc.maxRetries}
			insts := startInstances(t, 3, opts)
			h := insts[0]
			convs := startCrossApp(h, 3)
			out := hammer(t, h, convs, 10, 30)
			limit := tc.maxRetries
			if limit == 0 {
				limit = 5 // service.Options' documented default
			}
			checkChains(t, h, convs, out)
			checkConflicts(t, out, limit, tc.mustSee)
			checkAllServed(t, h, len(insts))
			t.Logf("%d sends acknowledged on %d conversations by %d instances; %d answered 409 conflict first (then retried)",
				len(out.acked), len(convs), len(insts), len(out.conflicts))
		})
	}
}

// startInstances runs n services with opts on one nats-server, each with
// its own connection and read model, like separate processes. The first is
// the harness the others join; v1 is published before the others start.
func startInstances(t *testing.T, n int, opts service.Options) []*harness {
	t.Helper()
	h := newHarness(t)
	h.restart(opts)
	h.publishFile("v1-2020-cross-app.json")
	insts := []*harness{h}
	for range n - 1 {
		other := &harness{t: t, srv: h.srv, nc: h.srv.Connect(t), clock: h.clock, ctx: h.ctx, viewsD: t.TempDir()}
		other.start(opts)
		insts = append(insts, other)
	}
	return insts
}

// hammerResult is what the producers were told.
type hammerResult struct {
	mu        sync.Mutex
	acked     map[string]api.CommandReply // command id -> success reply
	conflicts map[string]string           // command id -> the 409's message
}

// hammer runs producers, each on its own connection, that send perProducer
// messages each to random conversations of convs. A producer that gets
// 409 conflict, or no answer, sends the same command id again, as the
// error message tells it to; any other error fails the test.
func hammer(t *testing.T, h *harness, convs []string, producers, perProducer int) *hammerResult {
	t.Helper()
	out := &hammerResult{acked: map[string]api.CommandReply{}, conflicts: map[string]string{}}
	var wg sync.WaitGroup
	for p := range producers {
		c := client.New(h.srv.Connect(t))
		rng := rand.New(rand.NewPCG(uint64(p), 7))
		wg.Go(func() {
			for i := range perProducer {
				actor := []events.Account{alice, bob}[rng.IntN(2)]
				body := map[string]any{"command_id": uuid.NewString(), "actor": actor,
					"conversation_id": convs[rng.IntN(len(convs))], "text": fmt.Sprintf("p%d m%d", p, i)}
				if err := out.send(h.ctx, c, actor, body); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return out
}

func (o *hammerResult) send(ctx context.Context, c *client.Client, actor events.Account, body map[string]any) error {
	id := body["command_id"].(string)
	for attempt := 1; attempt <= 50; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		r, err := c.Command(rctx, string(actor.App()), "message.send", body)
		cancel()
		var cerr *client.Error
		switch {
		case err == nil:
			o.mu.Lock()
			o.acked[id] = r
			o.mu.Unlock()
			return nil
		case client.CodeOf(err) == "conflict":
			o.mu.Lock()
			o.conflicts[id] = err.Error()
			o.mu.Unlock()
		case !errors.As(err, &cerr):
			// no answer: the outcome is unknown, so send it again
		default:
			return fmt.Errorf("message.send %s: %w", id, err)
		}
	}
	return fmt.Errorf("message.send %s: no success in 50 attempts", id)
}

// checkChains reads each conversation back: versions run 1..n without a
// gap, each prevhash is the sha256 of the previous stored bytes, every
// acknowledged command produced exactly one event, the one its reply
// named; and the audit of the whole stream finds no break.
func checkChains(t *testing.T, h *harness, convs []string, out *hammerResult) {
	t.Helper()
	causes := map[string]int{}
	at := map[uint64]events.Event{}
	for _, conv := range convs {
		msgs, err := h.log.Load(h.ctx, events.ConversationSubject(conv), 0)
		if err != nil {
			t.Fatal(err)
		}
		prev := ""
		for i, m := range msgs {
			e, err := events.Decode(m.Data)
			if err != nil {
				t.Fatalf("seq %d: %v", m.Seq, err)
			}
			if e.StreamVersion != uint64(i+1) {
				t.Errorf("conversation %s: event %d (seq %d) has streamversion %d", conv, i+1, m.Seq, e.StreamVersion)
			}
			if e.PrevHash != prev {
				t.Errorf("conversation %s: event %d (seq %d) has prevhash %q, want %q", conv, i+1, m.Seq, e.PrevHash, prev)
			}
			prev = events.Hash(m.Data)
			causes[e.CausationID]++
			at[m.Seq] = e
		}
	}
	for id, r := range out.acked {
		if n := causes[id]; n != 1 {
			t.Errorf("acknowledged command %s has %d events", id, n)
		}
		if e := at[r.StreamSeq]; e.CausationID != id || e.ID != r.EventID {
			t.Errorf("command %s: its reply names seq %d, event %s; the log holds event %s of command %s there",
				id, r.StreamSeq, r.EventID, e.ID, e.CausationID)
		}
	}
	rep, err := audit.Verify(h.ctx, h.log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("audit: %d breaks, first %+v", rep.BreaksTotal, rep.Breaks[0])
	}
}

// checkConflicts: a 409 only after MaxRetries lost races, and every 409'd
// command stored once when retried; with mustSee, 409s were seen.
func checkConflicts(t *testing.T, out *hammerResult, maxRetries int, mustSee bool) {
	t.Helper()
	for id, msg := range out.conflicts {
		if !strings.Contains(msg, fmt.Sprintf("under %d retries", maxRetries)) {
			t.Errorf("command %s got 409 without exhausting %d retries: %s", id, maxRetries, msg)
		}
		if _, ok := out.acked[id]; !ok {
			t.Errorf("command %s got 409 and was never acknowledged on retry", id)
		}
	}
	if mustSee && len(out.conflicts) == 0 {
		t.Errorf("MaxRetries=%d: three instances racing on three conversations never exhausted it", maxRetries)
	}
}

// checkAllServed asks every instance for its micro stats: each must have
// handled some of the sends, so the races were real.
func checkAllServed(t *testing.T, h *harness, n int) {
	t.Helper()
	inbox := nats.NewInbox()
	replies := make(chan *nats.Msg, 16)
	sub, err := h.nc.ChanSubscribe(inbox, replies)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	subject, err := micro.ControlSubject(micro.StatsVerb, api.ServiceName, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.nc.PublishRequest(subject, inbox, nil); err != nil {
		t.Fatal(err)
	}
	served := map[string]int{}
	timeout := time.After(2 * time.Second)
	for len(served) < n {
		select {
		case m := <-replies:
			var st micro.Stats
			if err := json.Unmarshal(m.Data, &st); err != nil {
				t.Fatal(err)
			}
			for _, e := range st.Endpoints {
				if e.Name == "message_send" {
					served[st.ID] += e.NumRequests
				}
			}
		case <-timeout:
			t.Fatalf("%d of %d instances answered the stats request: %v", len(served), n, served)
		}
	}
	for id, reqs := range served {
		if reqs == 0 {
			t.Errorf("instance %s handled no sends; the queue group did not spread them: %v", id, served)
		}
	}
}
