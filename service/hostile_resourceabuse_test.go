package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/service"
)

// The class "resource abuse": what one producer can do to make crosstalk
// slow or silent for everyone else, and the limit that stops it.

// colleague shares alice's app, so that no policy is needed.
const colleague = events.Account("instagram:colleague")

var _ = hostile("resource abuse", "keeps 1,100 queries with min_seq 2^64-1 outstanding on one connection", func(t *testing.T) {
	h := newHarness(t)
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{colleague}}).ConversationID
	flood := h.srv.Connect(t)
	body := []byte(`{"min_seq":18446744073709551615}`)
	replies := sendAll(t, flood, "crosstalk.query.status", body, 1100)
	// Sent while the flood is outstanding, a command is answered.
	h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "not stalled"})
	last := h.lastSeq()
	answered := 0
	for i := 0; i < 1100; i++ {
		// Each is refused at once: 400 naming the last sequence, or 429
		// when the connection has its share of query slots in flight.
		msg := nextReply(t, replies)
		switch status := msg.Header.Get(micro.ErrorCodeHeader); {
		case status == "400" && strings.Contains(string(msg.Data), "last sequence"):
			answered++
		case status != "429":
			t.Fatalf("query %d: want 400 naming the stream's last sequence, got %s %s", i, status, msg.Data)
		}
	}
	if answered == 0 {
		t.Fatal("no query was answered 400")
	}
	if got := h.lastSeq(); got != last {
		t.Fatalf("queries appended: last seq %d, then %d", last, got)
	}
})

var _ = hostile("resource abuse", "keeps queries waiting for the read model on one connection", func(t *testing.T) {
	h := newHarness(t)
	gate := &gatedLog{}
	h.wrapLog = func(l service.Log) service.Log { gate.Log = l; return gate }
	h.restart(service.Options{MaxInFlight: 8, MaxQueriesInFlight: 8, ReadWait: 20 * time.Second})
	t.Cleanup(gate.open)
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{colleague}}).ConversationID
	h.waitCaughtUp()
	gate.hold()
	seq := h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "unseen"}).StreamSeq
	// One connection asks 10 queries that wait for seq: its share of the
	// 8 query slots is 2, so 8 are refused at once.
	flood := h.srv.Connect(t)
	replies := sendAll(t, flood, "crosstalk.query.status", []byte(fmt.Sprintf(`{"min_seq":%d}`, seq)), 10)
	for i := 0; i < 8; i++ {
		msg := nextReply(t, replies)
		if status := msg.Header.Get(micro.ErrorCodeHeader); status != "429" {
			t.Fatalf("query %d beyond the connection's share: want 429, got %q %s", i, status, msg.Data)
		}
	}
	// Another connection's query and a command are answered meanwhile.
	var st api.Status
	if err := h.c.Query(h.ctx, api.QueryStatus, map[string]any{}, &st); err != nil {
		t.Fatalf("another connection's query: %v", err)
	}
	if st.InFlight != 3 {
		t.Errorf("in flight: want the flood's 2 waiting queries and this one, got %d", st.InFlight)
	}
	h.must(colleague, "message.send", map[string]any{"conversation_id": conv, "text": "still served"})
	gate.open()
	for i := 0; i < 2; i++ {
		if msg := nextReply(t, replies); msg.Header.Get(micro.ErrorCodeHeader) != "" {
			t.Fatalf("a waiting query, once the read model caught up: %s", msg.Data)
		}
	}
})

var _ = hostile("resource abuse", "sends 600 KB values that an error message would echo", func(t *testing.T) {
	h := newHarness(t)
	huge := strings.Repeat("x", 600<<10)
	valid := uuid.NewString()
	for _, c := range []struct{ subject, body string }{
		{"crosstalk.cmd.instagram.message.send", `{"command_id":"` + valid + `","actor":"instagram:alice","conversation_id":"` + huge + `","text":"hi"}`},
		{"crosstalk.cmd.instagram.message.send", `{"command_id":"` + huge + `","actor":"instagram:alice","conversation_id":"` + valid + `","text":"hi"}`},
		{"crosstalk.cmd.instagram.presence.set", `{"command_id":"` + valid + `","actor":"instagram:` + huge + `","status":"idle"}`},
		{"crosstalk.cmd.instagram.presence.set", `{"command_id":"` + valid + `","actor":"instagram:alice","status":"` + huge + `"}`},
		{"crosstalk.cmd.instagram.presence.set", `{"command_id":"` + valid + `","actor":"instagram:alice","` + huge + `":1}`},
		{"crosstalk.query.inbox", `{"account":"` + huge + `"}`},
		{"crosstalk.query.conversation", `{"conversation_id":"` + huge + `"}`},
		{"crosstalk.query.inbox", `{"account":"instagram:alice","cursor":"` + huge + `"}`},
		{"crosstalk.query.messages", `{"conversation_id":"` + valid + `","viewer":"instagram:alice","cursor":"` + huge + `"}`},
		{"crosstalk.query.policy", `{"cursor":"` + huge + `"}`},
		{api.QuerySubject(api.QueryCommand), `{"command_id":"` + huge + `"}`},
		{api.AdminPublish, `{"command_id":"` + huge + `","policy":{}}`},
		{api.AdminPublish, `{"command_id":"` + valid + `","policy":{"version":1,"` + huge + `":1}}`},
		{api.AdminPublish, `{"command_id":"` + valid + `","policy":{"version":1,"name":"n","effective_at":"` + huge + `","links":[]}}`},
	} {
		ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
		msg, err := h.c.Raw(ctx, c.subject, []byte(c.body))
		cancel()
		if err != nil {
			t.Fatalf("%s with a 600 KB value: no answer: %v", c.subject, err)
		}
		header := msg.Header.Get(micro.ErrorHeader)
		// A quoted value is cut to its first 64 bytes (and a sentence to
		// 1 KiB): no run of the value's 65 bytes may come back.
		echoed := strings.Contains(header, strings.Repeat("x", 65))
		if !strings.HasPrefix(msg.Header.Get(micro.ErrorCodeHeader), "4") || echoed || len(header) > 1100 || len(msg.Data) > 1300 {
			t.Fatalf("%s: want a short refusal, got %s, a %d-byte header and a %d-byte body: %.200s",
				c.subject, msg.Header.Get(micro.ErrorCodeHeader), len(header), len(msg.Data), header)
		}
		var body api.ErrorBody
		if err := json.Unmarshal(msg.Data, &body); err != nil || body.Error.Message != header {
			t.Fatalf("%s: the body %s does not carry the header's sentence %q", c.subject, msg.Data, header)
		}
	}
})

var _ = hostile("resource abuse", "sends to 400 conversations that do not exist, to evict a busy one", func(t *testing.T) {
	h := newHarness(t)
	loads := &countingLog{}
	h.wrapLog = func(l service.Log) service.Log { loads.Log = l; return loads }
	h.restart(service.Options{CacheSize: 50})
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{colleague}}).ConversationID
	h.must(colleague, "message.send", map[string]any{"conversation_id": conv, "text": "busy"})
	for i := 0; i < 400; i++ {
		h.refused(api.CodeConversationNotFound, alice, "message.send", map[string]any{"conversation_id": uuid.NewString(), "text": "anyone?"})
	}
	busy := events.ConversationSubject(conv)
	before := loads.of(busy)
	h.must(alice, "message.send", map[string]any{"conversation_id": conv, "text": "still cached"})
	if n := loads.of(busy) - before; n != 0 {
		t.Fatalf("the busy conversation was loaded %d times again after 400 misses: misses evicted it", n)
	}
})

// sendAll publishes n requests of body to subject on nc without waiting,
// and returns the subscription their replies arrive on.
func sendAll(t *testing.T, nc *nats.Conn, subject string, body []byte, n int) *nats.Subscription {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox + ".*")
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := nc.PublishRequest(subject, fmt.Sprintf("%s.%d", inbox, i), body); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}

// nextReply waits, generously, for the next reply on sub.
func nextReply(t *testing.T, sub *nats.Subscription) *nats.Msg {
	t.Helper()
	msg, err := sub.NextMsg(15 * time.Second)
	if err != nil {
		t.Fatalf("waiting for a reply: %v", err)
	}
	return msg
}

// waitCaughtUp waits until the read model has applied the whole stream.
func (h *harness) waitCaughtUp() {
	h.t.Helper()
	var st api.Status
	h.mustQuery(api.QueryStatus, map[string]any{}, &st)
}

// countingLog counts the loads of each subject.
type countingLog struct {
	service.Log
	mu    sync.Mutex
	loads map[string]int
}

func (l *countingLog) LoadPage(ctx context.Context, subject string, afterSeq uint64) ([]events.Message, bool, error) {
	l.mu.Lock()
	if l.loads == nil {
		l.loads = map[string]int{}
	}
	l.loads[subject]++
	l.mu.Unlock()
	return l.Log.LoadPage(ctx, subject, afterSeq)
}

func (l *countingLog) of(subject string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.loads[subject]
}

// gatedLog holds the read model's reading while held, so that queries with
// a min_seq wait for it.
type gatedLog struct {
	service.Log
	held atomic.Pointer[chan struct{}]
}

func (l *gatedLog) hold() {
	ch := make(chan struct{})
	l.held.Store(&ch)
}

func (l *gatedLog) open() {
	if ch := l.held.Swap(nil); ch != nil {
		close(*ch)
	}
}

func (l *gatedLog) Read(ctx context.Context, fromSeq uint64, maxBatch int, fn func([]events.Message) error) error {
	return l.Log.Read(ctx, fromSeq, maxBatch, func(msgs []events.Message) error {
		if ch := l.held.Load(); ch != nil {
			select {
			case <-*ch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return fn(msgs)
	})
}
