package rawattack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/node"
)

// fanout is attack 1 of issue 22 at a size a -race test affords:
// messenger:bob starts conversations with made-up participants, then
// floods presence.set from one connection, many in flight.
type fanout struct {
	convs, fakes, inFlight int
	flood                  time.Duration
}

// defaultFanout is the CI size; CROSSTALK_FANOUT_FULL=1 runs the issue's
// (30 × 255, 15 s, 64 in flight) and logs the figures.
func defaultFanout() (fanout, bool) {
	if os.Getenv("CROSSTALK_FANOUT_FULL") != "" {
		return fanout{convs: 30, fakes: 255, inFlight: 64, flood: 15 * time.Second}, true
	}
	return fanout{convs: 30, fakes: 255, inFlight: 16, flood: 3 * time.Second}, false
}

// One principal's presence flood, each presence.changed reaching thousands
// of made-up partners, must not stall the read model for everyone: another
// user's write-then-read (presence.set, then query.presence with min_seq)
// succeeds every time, quickly, and the views are caught up soon after
// the flood stops. Before the fan-out was bounded, every write-then-read
// answered 504 not_caught_up and the views fell tens of seconds behind.
func TestPresenceFloodDoesNotStallOthers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w := startWorld(ctx, t)
	size, full := defaultFanout()
	bob := w.userConn(t, "messenger:bob")
	alice := w.userConn(t, "instagram:alice")
	var last uint64
	for i := range size.convs {
		fakes := make([]string, size.fakes)
		for j := range fakes {
			fakes[j] = fmt.Sprintf("messenger:fake%d_%d", i, j)
		}
		parts, _ := json.Marshal(fakes)
		body := fmt.Sprintf(`{"command_id":%q,"actor":"messenger:bob","participants":%s}`, uuid.NewString(), parts)
		r := mustCommand(ctx, t, bob, api.CommandSubject("messenger", api.ActionConversationStart), body)
		last = r.StreamSeq
	}
	waitApplied(ctx, t, alice, last) // the setup is not the attack
	heap := testkit.HeapPeak()
	floodCtx, stop := context.WithTimeout(ctx, size.flood)
	defer stop()
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for g := range size.inFlight {
		wg.Go(func() { accepted.Add(presenceFlood(floodCtx, bob, g)) })
	}
	var took []time.Duration
	for floodCtx.Err() == nil {
		d, err := writeThenRead(ctx, alice, "instagram", "instagram:alice")
		if err != nil {
			t.Errorf("alice's write-then-read during the flood: %v", err)
		}
		took = append(took, d)
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	// The lag after the flood: how long bob's own last write takes to be read.
	lag, err := writeThenRead(ctx, bob, "messenger", "messenger:bob")
	if err != nil {
		t.Fatalf("bob's write-then-read after the flood: %v", err)
	}
	slices.Sort(took)
	p99 := took[(len(took)*99)/100]
	t.Logf("flood: %d presence.set accepted; alice: %d write-then-reads, p50 %v p99 %v; read model lag after: %v",
		accepted.Load(), len(took), took[len(took)/2], p99, lag)
	peak := heap()
	t.Logf("heap of the whole test process (server, node, clients) during the flood: peak %d MiB", peak>>20)
	if peak > testkit.HeapBudget {
		t.Errorf("heap peaked at %d MiB during the flood, want within serve's %d MiB", peak>>20, testkit.HeapBudget>>20)
	}
	if accepted.Load() < int64(size.inFlight) {
		t.Fatalf("the flood hardly ran: %d presence.set accepted", accepted.Load())
	}
	if lag > 2*time.Second {
		t.Errorf("the read model was %v behind after the flood, want under 2s", lag)
	}
	if full && p99 > 200*time.Millisecond {
		t.Errorf("alice's write-then-read p99 %v, want at most 200ms", p99)
	}
}

// waitApplied waits until the read model has applied seq.
func waitApplied(ctx context.Context, t *testing.T, nc *nats.Conn, seq uint64) {
	t.Helper()
	q := []byte(`{"min_seq":` + strconv.FormatUint(seq, 10) + `}`)
	for ctx.Err() == nil {
		m, err := nc.RequestWithContext(ctx, api.QuerySubject(api.QueryPolicy), q)
		if err == nil && m.Header.Get("Nats-Service-Error-Code") == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the read model never applied seq %d", seq)
}

// userConn connects as end user principal, with its reply inbox prefix.
func (w *world) userConn(t *testing.T, principal string) *nats.Conn {
	t.Helper()
	cr, err := w.cfg.Lookup(principal)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := node.ConnectWith(w.url, principal, node.Credentials{User: cr.User, Password: cr.Password},
		nats.CustomInboxPrefix(natsconf.InboxPrefix(cr.Kind, cr.Principal)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// mustCommand sends a command and returns its reply, failing on an error.
func mustCommand(ctx context.Context, t *testing.T, nc *nats.Conn, subject, body string) api.CommandReply {
	t.Helper()
	r, err := command(ctx, nc, subject, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// command sends a command and decodes its reply; a service error is an
// error.
func command(ctx context.Context, nc *nats.Conn, subject, body string) (api.CommandReply, error) {
	var r api.CommandReply
	m, err := nc.RequestWithContext(ctx, subject, []byte(body))
	if err != nil {
		return r, fmt.Errorf("%s: %w", subject, err)
	}
	if code := m.Header.Get("Nats-Service-Error-Code"); code != "" {
		return r, fmt.Errorf("%s: %s %s", subject, code, m.Data)
	}
	return r, json.Unmarshal(m.Data, &r)
}

// politeCommand is command as a well-behaved client sends it: after a 429
// it waits as long as the service says, and asks again (bob's own write
// right after his flood finds his budget spent).
func politeCommand(ctx context.Context, nc *nats.Conn, subject, body string) (api.CommandReply, error) {
	var r api.CommandReply
	for {
		m, err := nc.RequestWithContext(ctx, subject, []byte(body))
		if err != nil {
			return r, fmt.Errorf("%s: %w", subject, err)
		}
		if wait := again(m); wait > 0 && m.Header.Get("Nats-Service-Error-Code") == "429" {
			time.Sleep(wait)
			continue
		}
		if code := m.Header.Get("Nats-Service-Error-Code"); code != "" {
			return r, fmt.Errorf("%s: %s %s", subject, code, m.Data)
		}
		return r, json.Unmarshal(m.Data, &r)
	}
}

// presenceFlood sends presence.set as bob, alternating statuses so that
// none is a repeat, one at a time until ctx ends, and returns how many
// were accepted. Refusals (a rate limit's 429) are part of the flood.
func presenceFlood(ctx context.Context, nc *nats.Conn, g int) int64 {
	statuses := []string{"active", "idle"}
	var n int64
	for i := 0; ctx.Err() == nil; i++ {
		body := fmt.Sprintf(`{"command_id":%q,"actor":"messenger:bob","status":%q}`, uuid.NewString(), statuses[(g+i)%2])
		if _, err := command(ctx, nc, api.CommandSubject("messenger", api.ActionPresenceSet), body); err == nil {
			n++
		}
	}
	return n
}

// writeThenRead sets account's presence and reads it back with min_seq
// at the write's sequence, as a client that must see its own write does,
// and returns how long both took.
func writeThenRead(ctx context.Context, nc *nats.Conn, app, account string) (time.Duration, error) {
	start := time.Now()
	body := fmt.Sprintf(`{"command_id":%q,"actor":%q,"status":"active"}`, uuid.NewString(), account)
	r, err := politeCommand(ctx, nc, api.CommandSubject(app, api.ActionPresenceSet), body)
	if err != nil {
		return 0, err
	}
	q := `{"account":` + strconv.Quote(account) + `,"min_seq":` + strconv.FormatUint(r.StreamSeq, 10) + `}`
	m, err := nc.RequestWithContext(ctx, api.QuerySubject(api.QueryPresence), []byte(q))
	if err != nil {
		return 0, err
	}
	if code := m.Header.Get("Nats-Service-Error-Code"); code != "" {
		return time.Since(start), fmt.Errorf("query.presence at min_seq %d: %s %s", r.StreamSeq, code, m.Data)
	}
	return time.Since(start), nil
}
