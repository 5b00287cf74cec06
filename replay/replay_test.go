package replay_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/replay"
)

var (
	workloadCommands = flag.Int("workload.commands", 2000, "commands of the replay workload")
	workloadSeed     = flag.Uint64("workload.seed", 20231214, "seed of the replay workload")
)

// The issue "Replay and audit tooling": views rebuilt by a replay of the
// whole log equal the views the live service built, key for key, after a
// randomized workload that crosses a policy change; the same holds for a
// replay of an export, and a bounded replay equals views fed only the
// history up to the bound.
func TestReplayEqualsLive(t *testing.T) {
	n := historytest.StartNode(t)
	w := newWorkload(n, *workloadSeed)
	w.run(*workloadCommands)
	last := w.quiesce()
	live, entries, err := n.Store.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	if cp, now := n.Store.Checkpoint(), n.LastSeq(); cp != last || now != last {
		t.Fatalf("the service wrote while the live checksum was taken: checkpoint %d, stream at %d, was %d", cp, now, last)
	}
	t.Logf("workload: %d commands (%d refused), %d events, %d view entries", w.sent, w.refused, last, entries)
	history := checksumOf(t, n, last)

	src, err := replay.FromLog(n.Ctx, n.Log)
	if err != nil {
		t.Fatal(err)
	}
	var calls, done uint64
	res, err := replay.Run(n.Ctx, src, newStore(t), replay.Options{Progress: func(d, total uint64) {
		if d < done || total != last {
			t.Errorf("progress %d/%d after %d/%d", d, total, done, last)
		}
		calls, done = calls+1, d
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("replay: %d events in %s, %.0f events/s", res.Events, res.Duration, res.EventsPerSecond())
	if res.Checksum != live || res.Entries != entries || res.Events != last || res.LastSeq != last || res.Skipped != 0 {
		t.Fatalf("replay of the whole log: %+v\nlive views: %s over %d entries, %d events", res, live, entries, last)
	}
	if res.History != history {
		t.Fatalf("the replay read history %+v; the stream's checksum is %+v", res.History, history)
	}
	if done != last || calls < 2 {
		t.Fatalf("progress was reported %d times, last at %d of %d", calls, done, last)
	}

	t.Run("export then replay", func(t *testing.T) {
		var buf bytes.Buffer
		if k, err := replay.Export(n.Ctx, n.Log, 0, &buf); err != nil || k != last {
			t.Fatalf("export: %d lines, %v", k, err)
		}
		src := replay.ReadJSONL(&buf)
		src.SetTotal(last)
		got, err := replay.Run(n.Ctx, src, newStore(t), replay.Options{BatchSize: 333})
		if err != nil {
			t.Fatal(err)
		}
		if got.Checksum != live || got.History != history || got.LastSeq != last {
			t.Fatalf("replay of the export: %+v; of the log: %+v", got, res)
		}
	})

	msgs := allMessages(t, n, last)
	t.Run("until a sequence", func(t *testing.T) {
		for _, until := range []uint64{1, last / 3, last} {
			got := replayLog(t, n, replay.Options{UntilSeq: until})
			want := fedOnly(t, msgs[:until])
			if got.Checksum != want || got.LastSeq != until || got.Events != until || got.History != checksumOf(t, n, until) {
				t.Errorf("replay until seq %d: %+v; views fed seqs 1..%d: %s", until, got, until, want)
			}
		}
		src, _ := replay.FromLog(n.Ctx, n.Log)
		if _, err := replay.Run(n.Ctx, src, newStore(t), replay.Options{UntilSeq: last + 1}); err == nil {
			t.Error("a replay until a sequence past the end of the log must fail")
		}
	})
	t.Run("until a time", func(t *testing.T) {
		for _, at := range []uint64{1, w.v2Seq, last} {
			e, err := events.Decode(msgs[at-1].Data)
			if err != nil {
				t.Fatal(err)
			}
			asOf := e.Time
			var kept []events.Message
			for _, m := range msgs {
				if e, err := events.Decode(m.Data); err == nil && !e.Time.After(asOf) {
					kept = append(kept, m)
				}
			}
			got := replayLog(t, n, replay.Options{UntilTime: asOf})
			if want := fedOnly(t, kept); got.Checksum != want || got.Events != uint64(len(kept)) ||
				got.Events+got.Skipped != last || got.LastSeq != kept[len(kept)-1].Seq {
				t.Errorf("replay as of %s (the time of seq %d): %+v; views fed the %d events up to then: %s",
					asOf, at, got, len(kept), want)
			}
			if got.LastSeq != uint64(len(kept)) {
				t.Errorf("as of %s the events kept are not a prefix of the log: %d events, the last at seq %d",
					asOf, len(kept), got.LastSeq)
			}
		}
	})
}

// A replay builds views only into an empty store: on top of other views it
// would be no rebuild.
func TestReplayRefusesAStoreWithViews(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	live := f.Project()
	src, err := replay.FromLog(f.Ctx, f.Log)
	if err != nil {
		t.Fatal(err)
	}
	_, err = replay.Run(f.Ctx, src, live, replay.Options{})
	if !errors.Is(err, replay.ErrStoreNotEmpty) {
		t.Fatalf("replay into a store with views: %v", err)
	}
}

// As of a time, a body that is not an event has no time and is left out,
// as BuildAsOf leaves it out; events after the time are skipped.
func TestReplayUntilTimeLeavesOutWhatHasNoTime(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	junk := f.Raw(events.ConversationSubject(historytest.Conv1), []byte("junk"))
	asOf := f.Now
	f.Send(historytest.Conv1, historytest.Alice, "later")
	msgs := f.Messages()

	got := replayFixture(f, replay.Options{UntilTime: asOf})
	want := fedOnly(t, msgs[:junk-1])
	if got.Checksum != want || got.LastSeq != junk-1 || got.Events != junk-1 || got.Skipped != 2 {
		t.Fatalf("replay as of %s: %+v; views fed seqs 1..%d: %s", asOf, got, junk-1, want)
	}
	asOfViews, err := replay.BuildAsOf(f.Ctx, f.Log, asOf, t.TempDir(), testkit.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer asOfViews.Store.Close()
	if sum, _, err := asOfViews.Store.Checksum(); err != nil || sum != got.Checksum {
		t.Fatalf("BuildAsOf as of %s: %s, %v; replay: %s", asOf, sum, err, got.Checksum)
	}
	if got := replayFixture(f, replay.Options{UntilTime: asOf.AddDate(-10, 0, 0)}); got.Events != 0 || got.LastSeq != 0 ||
		got.Skipped != uint64(len(msgs)) {
		t.Fatalf("replay as of before the first event: %+v", got)
	}
}

// A cancelled replay stops with the context's error.
func TestReplayStopsWhenCancelled(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	src, err := replay.FromLog(f.Ctx, f.Log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(f.Ctx)
	cancel()
	if _, err := replay.Run(ctx, src, f.Views(), replay.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("replay with a cancelled context: %v", err)
	}
}

func newStore(t testing.TB) *projector.Store {
	t.Helper()
	s, err := projector.Open(projector.Options{Dir: t.TempDir(), Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// fedOnly is the views checksum of a fresh store fed msgs in one Apply.
func fedOnly(t *testing.T, msgs []events.Message) string {
	t.Helper()
	s := newStore(t)
	if err := s.Apply(msgs); err != nil {
		t.Fatal(err)
	}
	sum, _, err := s.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func replayLog(t testing.TB, n *historytest.Node, opts replay.Options) replay.Result {
	t.Helper()
	src, err := replay.FromLog(n.Ctx, n.Log)
	if err != nil {
		t.Fatal(err)
	}
	r, err := replay.Run(n.Ctx, src, newStore(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func checksumOf(t *testing.T, n *historytest.Node, until uint64) audit.Sum {
	t.Helper()
	s, err := audit.Checksum(n.Ctx, n.Log, until)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// allMessages reads seqs 1..last one by one, without the code under test.
func allMessages(t *testing.T, n *historytest.Node, last uint64) []events.Message {
	t.Helper()
	out := make([]events.Message, 0, last)
	for seq := uint64(1); seq <= last; seq++ {
		m, err := n.Log.Get(n.Ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// workload drives a node with random commands of every kind, most of them
// valid, some refused by a rule, across the publication and the effect of
// the December 2023 policy.
type workload struct {
	n        *historytest.Node
	t        testing.TB
	rng      *rand.Rand
	accounts []events.Account
	convs    []*workConv
	sent     int
	refused  int
	v2Seq    uint64
}

type workConv struct {
	id    string
	parts []events.Account
	msgs  []workMsg
	calls []string
}

type workMsg struct {
	id     string
	sender events.Account
}

func newWorkload(n *historytest.Node, seed uint64) *workload {
	n.T.Logf("workload seed %d (rerun with -workload.seed=%d)", seed, seed)
	w := &workload{n: n, t: n.T, rng: rand.New(rand.NewPCG(seed, seed))}
	for i := range 6 {
		w.accounts = append(w.accounts,
			events.Account(fmt.Sprintf("instagram:ig%d", i)), events.Account(fmt.Sprintf("messenger:ms%d", i)))
	}
	return w
}

// run publishes policy v1, sends at least the given number of commands,
// publishes v2 halfway and lets it take effect a tenth of them later.
func (w *workload) run(commands int) {
	w.n.Publish("v1-2020-cross-app.json")
	published, effective := false, false
	for w.sent < commands {
		switch {
		case !published && w.sent >= commands/2:
			w.n.Clock.Set(time.Date(2023, 12, 12, 9, 0, 0, 0, time.UTC))
			w.v2Seq = w.n.Publish("v2-2023-12-cross-app-disconnect.json").StreamSeq
			published = true
		case !effective && w.sent >= commands/2+commands/10:
			w.n.Clock.Set(time.Date(2023, 12, 15, 9, 0, 0, 0, time.UTC))
			w.n.WaitPolicyApplied(2)
			effective = true
		}
		w.step()
	}
}

// quiesce waits until the stream stops growing and the live views have
// applied all of it, and returns its last sequence.
func (w *workload) quiesce() uint64 {
	for last := uint64(0); ; {
		now := w.n.LastSeq()
		if err := w.n.Store.WaitFor(w.n.Ctx, now); err != nil {
			w.t.Fatal(err)
		}
		if now == last {
			return last
		}
		last = now
		time.Sleep(200 * time.Millisecond)
	}
}

func (w *workload) step() {
	if len(w.convs) == 0 {
		w.start()
		return
	}
	c := w.convs[w.rng.IntN(len(w.convs))]
	switch p := w.rng.IntN(100); {
	case p < 10:
		w.start()
	case p < 45:
		w.send(c)
	case p < 53:
		w.edit(c)
	case p < 58:
		w.unsend(c)
	case p < 70:
		w.react(c)
	case p < 82:
		w.read(c)
	case p < 87:
		w.call(c)
	case p < 94:
		w.try(w.account(), "presence.set", map[string]any{"status": pick(w.rng, []string{"active", "idle", "offline"})})
	default:
		w.settings()
	}
}

func (w *workload) account() events.Account { return pick(w.rng, w.accounts) }

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// member is mostly a participant of c, sometimes anyone.
func (w *workload) member(c *workConv) events.Account {
	if w.rng.IntN(20) == 0 {
		return w.account()
	}
	return pick(w.rng, c.parts)
}

func (w *workload) start() {
	actor := w.account()
	others := []events.Account{}
	for range 1 + w.rng.IntN(2) {
		if a := w.account(); a != actor && !slices.Contains(others, a) {
			others = append(others, a)
		}
	}
	if len(others) == 0 {
		return
	}
	if r, ok := w.try(actor, "conversation.start", map[string]any{"participants": others}); ok {
		w.convs = append(w.convs, &workConv{id: r.ConversationID, parts: append([]events.Account{actor}, others...)})
	}
}

var words = []string{"hi", "lunch?", "ok", "see you", "😀", "on my way", "<b>not html</b>", "ça va", "later"}

func (w *workload) text() string {
	return pick(w.rng, words) + " " + pick(w.rng, words)
}

func (w *workload) send(c *workConv) {
	actor := w.member(c)
	if r, ok := w.try(actor, "message.send", map[string]any{"conversation_id": c.id, "text": w.text()}); ok {
		c.msgs = append(c.msgs, workMsg{id: r.MessageID, sender: actor})
	}
}

// message picks a message of c (a made-up one when it has none).
func (w *workload) message(c *workConv) workMsg {
	if len(c.msgs) == 0 || w.rng.IntN(30) == 0 {
		return workMsg{id: uuid.NewString(), sender: w.member(c)}
	}
	return pick(w.rng, c.msgs)
}

func (w *workload) edit(c *workConv) {
	m := w.message(c)
	actor := m.sender
	if w.rng.IntN(10) == 0 {
		actor = w.member(c)
	}
	w.try(actor, "message.edit", map[string]any{"conversation_id": c.id, "message_id": m.id, "text": w.text()})
}

func (w *workload) unsend(c *workConv) {
	m := w.message(c)
	w.try(m.sender, "message.unsend", map[string]any{"conversation_id": c.id, "message_id": m.id})
}

func (w *workload) react(c *workConv) {
	w.try(w.member(c), "message.react", map[string]any{"conversation_id": c.id, "message_id": w.message(c).id,
		"reaction": pick(w.rng, []string{"❤️", "👍", "😂", ""})})
}

func (w *workload) read(c *workConv) {
	w.try(w.member(c), "message.read", map[string]any{"conversation_id": c.id, "message_id": w.message(c).id})
}

func (w *workload) call(c *workConv) {
	if len(c.calls) > 0 && w.rng.IntN(2) == 0 {
		id := c.calls[len(c.calls)-1]
		if _, ok := w.try(w.member(c), "call.end", map[string]any{"conversation_id": c.id, "call_id": id}); ok {
			c.calls = c.calls[:len(c.calls)-1]
		}
		return
	}
	if r, ok := w.try(w.member(c), "call.start", map[string]any{"conversation_id": c.id,
		"media": pick(w.rng, []string{"audio", "video"})}); ok {
		c.calls = append(c.calls, r.CallID)
	}
}

func (w *workload) settings() {
	body := map[string]any{}
	for _, k := range []string{"show_activity_status", "send_read_receipts", "interop_opt_in"} {
		if w.rng.IntN(2) == 0 {
			body[k] = w.rng.IntN(3) > 0
		}
	}
	w.try(w.account(), "settings.set", body)
}

// refusals are the codes a rule may answer the workload with.
var refusals = []string{"invalid_request", "not_participant", "not_sender", "conversation_closed",
	"cross_app_not_allowed", "call_not_allowed", "conversation_not_found", "message_not_found",
	"call_not_found", "account_not_found"}

// try sends a command; a refusal by a rule is part of the workload, any
// other error fails the test.
func (w *workload) try(actor events.Account, action string, body map[string]any) (api.CommandReply, bool) {
	w.t.Helper()
	body["command_id"] = uuid.NewString()
	body["actor"] = actor
	w.n.Clock.Advance(time.Minute)
	ctx, cancel := context.WithTimeout(w.n.Ctx, 10*time.Second)
	defer cancel()
	r, err := w.n.C.Command(ctx, string(actor.App()), action, body)
	w.sent++
	if err != nil {
		if !slices.Contains(refusals, client.CodeOf(err)) {
			w.t.Fatalf("%s by %s: %v", action, actor, err)
		}
		w.refused++
		return r, false
	}
	return r, true
}

var (
	throughput         = flag.Bool("replay.throughput", false, "run TestReplayThroughput")
	throughputCommands = flag.Int("replay.commands", 72000, "commands of the workload TestReplayThroughput replays")
)

// TestReplayThroughput reports the events/s of replays of a large
// workload's log (72000 commands make about 50k events), from the stream
// and from an export. It runs only with -replay.throughput:
//
//	go test ./replay -run ReplayThroughput -replay.throughput -v
func TestReplayThroughput(t *testing.T) {
	if !*throughput {
		t.Skip("run with -replay.throughput")
	}
	n := historytest.StartNode(t)
	w := newWorkload(n, *workloadSeed)
	start := time.Now()
	w.run(*throughputCommands)
	last := w.quiesce()
	t.Logf("workload: %d commands, %d events in %s", w.sent, last, time.Since(start).Round(time.Millisecond))
	live, _, err := n.Store.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	// The node's service stops when n.Ctx ends; the broker lives on.
	ctx := context.Background()
	src, err := replay.FromLog(ctx, n.Log)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1000, replay.DefaultBatch, 10000} {
		r, err := replay.Run(ctx, src, newStore(t), replay.Options{BatchSize: batch})
		if err != nil || r.Checksum != live {
			t.Fatalf("batch %d: %+v, %v; live views %s", batch, r, err, live)
		}
		t.Logf("replay from the stream, batch %5d: %d events in %s, %.0f events/s",
			batch, r.Events, r.Duration.Round(time.Millisecond), r.EventsPerSecond())
	}
	var buf bytes.Buffer
	if _, err := replay.Export(ctx, n.Log, 0, &buf); err != nil {
		t.Fatal(err)
	}
	size := buf.Len()
	r, err := replay.Run(ctx, replay.ReadJSONL(&buf), newStore(t), replay.Options{})
	if err != nil || r.Checksum != live {
		t.Fatalf("replay of the export: %+v, %v", r, err)
	}
	t.Logf("replay from a %d-byte export: %d events in %s, %.0f events/s", size, r.Events,
		r.Duration.Round(time.Millisecond), r.EventsPerSecond())
}
