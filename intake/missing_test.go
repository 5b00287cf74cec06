package intake

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// listHider stands between a JetStream client and its server as a
// clustered nats-server behaves when a stream's leader has not answered
// within 4 s (a lost server, an election): the stream list leaves that
// stream out and names it under "missing", which nats.go does not report.
// Every other request passes unchanged, with its own reply subject.
type listHider struct {
	nc     *nats.Conn
	stream string
	hide   atomic.Bool
}

// lieAPI is the API prefix the hiding JetStream client uses.
const lieAPI = "$LIE.API"

// hideLists returns a JetStream client on s whose stream lists leave
// stream out while the returned listHider's hide is set.
func hideLists(t *testing.T, s *natstest.Server, stream string) (jetstream.JetStream, *listHider) {
	t.Helper()
	h := &listHider{nc: s.Connect(t), stream: stream}
	if _, err := h.nc.Subscribe(lieAPI+".>", h.serve); err != nil {
		t.Fatal(err)
	}
	if err := h.nc.Flush(); err != nil { // the server has the subscription before any request comes
		t.Fatal(err)
	}
	js, err := jetstream.NewWithAPIPrefix(s.Connect(t), lieAPI)
	if err != nil {
		t.Fatal(err)
	}
	return js, h
}

func (h *listHider) serve(m *nats.Msg) {
	forward := &nats.Msg{Subject: "$JS.API" + strings.TrimPrefix(m.Subject, lieAPI), Data: m.Data, Header: m.Header}
	if !strings.HasSuffix(m.Subject, ".STREAM.LIST") {
		forward.Reply = m.Reply
		_ = h.nc.PublishMsg(forward)
		return
	}
	resp, err := h.nc.RequestMsg(forward, 5*time.Second)
	if err != nil {
		return // the client times out, as with a server that did not answer
	}
	data := resp.Data
	if h.hide.Load() {
		data = h.leaveOut(data)
	}
	_ = m.Respond(data)
}

// leaveOut removes h.stream from a stream list response and names it
// missing, as nats-server's jsClusteredStreamListRequest does.
func (h *listHider) leaveOut(data []byte) []byte {
	var resp map[string]any
	if json.Unmarshal(data, &resp) != nil {
		return data
	}
	streams, _ := resp["streams"].([]any)
	resp["streams"] = slices.DeleteFunc(streams, func(s any) bool {
		info, _ := s.(map[string]any)
		cfg, _ := info["config"].(map[string]any)
		return cfg["name"] == h.stream
	})
	resp["missing"] = []string{h.stream}
	out, _ := json.Marshal(resp)
	return out
}

// orderDecider decides every command at once and records, per
// conversation, the order of the command ids it decided.
type orderDecider struct {
	mu      sync.Mutex
	decided []string
	waves   atomic.Int64
	onWave  func(n int64)
}

func (d *orderDecider) IntakeAll(_ context.Context, cmds []Command) []Decision {
	n := d.waves.Add(1)
	if d.onWave != nil {
		d.onWave(n)
	}
	out := make([]Decision, len(cmds))
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, c := range cmds {
		var env envelope
		_ = json.Unmarshal(c.Body, &env)
		d.decided = append(d.decided, env.CommandID)
		out[i] = Decision{}
	}
	return out
}

func (d *orderDecider) WireError(err error) api.Error {
	return api.Error{Status: "500", Code: "internal", Message: err.Error()}
}

func (d *orderDecider) snapshot() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.decided)
}

// publishConversation publishes n message.send commands of one
// conversation, cmd-000 … in order, to app's intake.
func publishConversation(ctx context.Context, t *testing.T, js jetstream.JetStream, app string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("cmd-%03d", i)
		body := fmt.Sprintf(`{"command_id":%q,"actor":"%s:u","conversation_id":"c1","text":"x"}`, ids[i], app)
		m := nats.NewMsg(api.IntakeSubject(app, api.ActionMessageSend))
		m.Data = []byte(body)
		m.Header.Set(api.MsgIDHeader, api.IntakeMsgID(app, ids[i]))
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// A clustered server may leave an intake stream out of its stream list
// for a while (its leader did not answer within 4 s). The consumer then
// neither drops that stream's lane with the messages it fetched ahead,
// nor skips deleting its consumer when it starts: either would let later
// commands of a conversation be decided before earlier ones, which come
// back only after AckWait (TestClusterOfNodes saw exactly that when a
// stream leader's server was killed).
func TestStreamLeftOutOfTheListKeepsIntakeOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		// before runs before the consumer starts, with the list hidden
		// from when (a wave number; 0: from the start) for a while.
		before func(ctx context.Context, t *testing.T, js jetstream.JetStream)
		from   int64
	}{
		{name: "while deciding", from: 1},
		{name: "when a new holder starts", before: fetchedByAHolderThatDied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s := natstest.Start(t)
			js := s.JetStream(t)
			opts := Options{Apps: []string{"app1"}, Batch: 4, RetryDelay: 50 * time.Millisecond, Logger: testkit.Quiet()}
			if _, err := Open(ctx, js, opts); err != nil {
				t.Fatal(err)
			}
			ids := publishConversation(ctx, t, js, "app1", 40)
			if tc.before != nil {
				tc.before(ctx, t, js)
			}
			lying, h := hideLists(t, s, AppStream("app1"))
			in, err := Open(ctx, lying, opts)
			if err != nil {
				t.Fatal(err)
			}
			d := &orderDecider{}
			hideFor := func() {
				h.hide.Store(true)
				time.AfterFunc(time.Second, func() { h.hide.Store(false) })
			}
			if tc.from == 0 {
				hideFor()
			} else {
				d.onWave = func(n int64) {
					if n == tc.from {
						hideFor()
					}
					time.Sleep(10 * time.Millisecond) // let the lanes fetch ahead, and the list be asked
				}
			}
			if got := runUntilDecided(ctx, t, in.Consumer(d), d, len(ids)); !slices.Equal(got, ids) {
				t.Errorf("decided %d commands in the order %v,\nwant each once, in intake order %v", len(got), got, ids)
			}
		})
	}
}

// fetchedByAHolderThatDied fetches the first three intake messages and
// never acknowledges them, as a holder killed mid-batch leaves them.
func fetchedByAHolderThatDied(ctx context.Context, t *testing.T, js jetstream.JetStream) {
	t.Helper()
	cons, err := js.CreateOrUpdateConsumer(ctx, AppStream("app1"), consumerConfig())
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := collect(cons.Fetch(3, jetstream.FetchMaxWait(2*time.Second)))
	if err != nil || len(msgs) != 3 {
		t.Fatalf("fetched %d, %v; want 3", len(msgs), err)
	}
}

// runUntilDecided runs c until d has decided n commands (or ctx ends),
// stops it, and returns what d decided, in order.
func runUntilDecided(ctx context.Context, t *testing.T, c *Consumer, d interface{ snapshot() []string }, n int) []string {
	t.Helper()
	run, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(run) }()
	for len(d.snapshot()) < n && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return d.snapshot()
}
