package crashtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
)

// perServer connects a client to each server's URL. nats-server hands a
// request to a queue subscriber on the requester's own server when it has
// one, so spreading requests over these spreads them over the nodes.
func perServer(t *testing.T, servers []*natsProcess) []*client.Client {
	t.Helper()
	cs := make([]*client.Client, 0, len(servers))
	for _, s := range servers {
		select {
		case <-s.exited:
			continue
		default:
		}
		cs = append(cs, client.New(connectURLs(t, s.url, "crashtest-via-"+s.name)))
	}
	return cs
}

// askNode sends body to subject and decodes the reply into out, or
// returns its error; it also returns the node that answered (its
// Crosstalk-Node header).
func askNode(ctx context.Context, c *client.Client, subject string, body, out any) (string, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	m, err := c.Raw(ctx, subject, data)
	if err != nil {
		return "", err
	}
	node := m.Header.Get(api.NodeHeader)
	if status := m.Header.Get(micro.ErrorCodeHeader); status != "" {
		var eb api.ErrorBody
		if err := json.Unmarshal(m.Data, &eb); err != nil {
			return node, fmt.Errorf("error reply %s from %s: %s", status, node, m.Data)
		}
		eb.Error.Status = status
		return node, &eb.Error
	}
	return node, json.Unmarshal(m.Data, out)
}

// rywProbes checks read-your-writes on any node: each probe sends a
// message in a conversation of its own, then asks that conversation, on a
// random server's connection, with after set to the send's position. The
// answer must hold the send (the conversation's version is the send's);
// not_caught_up, or no answer, is asked again, never taken for an answer.
type rywProbes struct {
	mu      sync.Mutex
	done    int
	retries int            // queries asked again
	nodes   map[string]int // node -> answers
	stale   []string
	ended   bool
}

func newRYWProbes() *rywProbes { return &rywProbes{nodes: map[string]int{}} }

// run sends n probes through cs, spread over the load (probe k waits for
// k*commands/n answered commands), and returns the first error that is
// not a stale read (those are kept for check).
func (p *rywProbes) run(ctx context.Context, cs []*client.Client, l *load, n, commands int) error {
	defer func() {
		p.mu.Lock()
		p.ended = true
		p.mu.Unlock()
	}()
	rng := rand.New(rand.NewPCG(23, 3))
	conv := uuid.NewString()
	actor := events.Account("instagram:ryw-writer")
	if _, err := sendOne(ctx, l, cs[0], rng, "conversation.start",
		map[string]any{"actor": actor, "conversation_id": conv, "participants": []events.Account{"instagram:ryw-reader"}}); err != nil {
		return err
	}
	for k := range n {
		if err := waitCompleted(ctx, l, int64(k*commands/n)); err != nil {
			return err
		}
		w, err := sendOne(ctx, l, cs[rng.IntN(len(cs))], rng, "message.send",
			map[string]any{"actor": actor, "conversation_id": conv, "text": fmt.Sprintf("probe %d", k)})
		if err != nil {
			return err
		}
		if err := p.read(ctx, cs[rng.IntN(len(cs))], conv, w); err != nil {
			return fmt.Errorf("probe %d: %w", k, err)
		}
	}
	return nil
}

// sendOne sends one command through the load's retrying send (so that it
// is checked with the load's commands) and returns its success reply.
func sendOne(ctx context.Context, l *load, c *client.Client, rng *rand.Rand, action string, body map[string]any) (api.CommandReply, error) {
	var reply api.CommandReply
	var err error
	l.send(ctx, c, command{app: "instagram", action: action, body: body, done: func(r api.CommandReply, e error) { reply, err = r, e }},
		rng, 2*time.Second)
	if err != nil {
		return reply, fmt.Errorf("%s: %w", action, err)
	}
	return reply, nil
}

// read asks conv with after w's position until a node answers, and notes
// whether the answer holds w.
func (p *rywProbes) read(ctx context.Context, c *client.Client, conv string, w api.CommandReply) error {
	deadline := time.Now().Add(commandDeadline)
	for {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var v api.ConversationView
		node, err := askNode(qctx, c, api.QuerySubject(api.QueryConversation), map[string]any{"conversation_id": conv, "after": w.Position}, &v)
		cancel()
		p.mu.Lock()
		switch {
		case err == nil:
			p.done++
			p.nodes[node]++
			if v.Version != w.Version {
				p.stale = append(p.stale, fmt.Sprintf("node %s answered version %d after %s, the write's version is %d", node, v.Version, w.Position, w.Version))
			}
		case retryable(err) || client.CodeOf(err) == api.CodeNotCaughtUp:
			p.retries++
		}
		p.mu.Unlock()
		if err == nil || !(retryable(err) || client.CodeOf(err) == api.CodeNotCaughtUp) {
			return err
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("no node answered a query with after %s: %w", w.Position, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// finished reports whether run has returned.
func (p *rywProbes) finished() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ended
}

// check fails the test for every stale answer and unless want probes were
// answered.
func (p *rywProbes) check(t *testing.T, want int) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.stale {
		t.Error("read-your-writes: " + s)
	}
	if p.done != want {
		t.Errorf("read-your-writes: %d probes answered, want %d", p.done, want)
	}
}

func (p *rywProbes) figures() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("%d of %d queries with after saw their write (answered by %v; %d asked again)",
		p.done-len(p.stale), p.done, p.nodes, p.retries)
}

// feedIntake publishes, in order, the commands of b whose conversation
// falls to part of parts, each once the load has answered its share of
// commands, so that the intake runs through the whole load. Each publish
// waits for its ack and is sent again, with the same Nats-Msg-Id, until
// acknowledged: one at a time, so a conversation's commands stay in order.
func feedIntake(ctx context.Context, nc *nats.Conn, b *backlog, part, parts int, l *load, commands int) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	for i, m := range b.msgs {
		if int(crc32.ChecksumIEEE([]byte(b.conv[b.ids[i]])))%parts != part {
			continue
		}
		if err := waitCompleted(ctx, l, int64(i*commands/len(b.msgs))); err != nil {
			return err
		}
		if err := publishAcked(ctx, js, m); err != nil {
			return err
		}
	}
	return nil
}

func publishAcked(ctx context.Context, js jetstream.JetStream, m *nats.Msg) error {
	deadline := time.Now().Add(commandDeadline)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := js.PublishMsg(pctx, m)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("intake publish to %s: %w", m.Subject, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// flipPolicies publishes n policies from version first on, alternately
// allowing and denying cross-app chat at once, and right after each sends
// a cross-app conversation.start on a random server's connection: each
// must be decided by the policy just published, whichever node decides
// it, and at least two nodes must have decided some.
func flipPolicies(ctx context.Context, t *testing.T, l *load, cs []*client.Client, first uint64, n int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(23, 4))
	nodes := map[string]int{}
	for i := range n {
		v, allow := first+uint64(i), i%2 == 0
		if _, err := l.publish(ctx, cs[rng.IntN(len(cs))], crossAppPolicy(v, allow, time.Now().Add(-time.Hour)), 2*time.Second); err != nil {
			t.Fatal(err)
		}
		node, err := startAcross(ctx, l, cs[rng.IntN(len(cs))], fmt.Sprintf("flip%d", i), v, allow)
		if err != nil {
			t.Error(err)
		}
		nodes[node]++
	}
	if len(nodes) < 2 {
		t.Errorf("one node decided all %d starts after a policy flip: %v", n, nodes)
	}
	return fmt.Sprintf("%d starts each decided by the policy published just before it, by nodes %v", n, nodes)
}

// startAcross sends a cross-app start, retrying its command id, and checks
// that policy version v decided it: accepted under v when allow, refused
// cross_app_not_allowed under v otherwise. It returns the deciding node.
func startAcross(ctx context.Context, l *load, c *client.Client, name string, v uint64, allow bool) (string, error) {
	id := uuid.NewString()
	body := map[string]any{"command_id": id, "actor": "instagram:" + name, "participants": []string{"messenger:" + name}}
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		var r api.CommandReply
		node, err := askNode(rctx, c, api.CommandSubject("instagram", api.ActionConversationStart), body, &r)
		cancel()
		if err != nil && retryable(err) && attempt < 20 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		// Not a load start: a deny published at once after an allow may
		// supersede it before its closer ran, so checkClosings expects
		// nothing of it; checkAcked still checks its event.
		l.record(id, command{action: "conversation.start after policy " + fmt.Sprint(v)}, r, err, attempt)
		var e *api.Error
		switch {
		case allow && (err != nil || r.PolicyVersion != v):
			return node, fmt.Errorf("start after allowing policy %d, on node %s: %v, policy version %d", v, node, err, r.PolicyVersion)
		case !allow && (client.CodeOf(err) != api.CodeCrossAppNotAllowed || !errors.As(err, &e) || e.PolicyVersion != v):
			return node, fmt.Errorf("start after denying policy %d, on node %s: %v; want cross_app_not_allowed by version %d", v, node, err, v)
		}
		return node, nil
	}
}

// seen is how many success outcomes were published.
func (o *outcomeLog) seen() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, c := range o.ok {
		n += c
	}
	return n
}
