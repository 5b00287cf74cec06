package crashtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/intake"
)

// The backlog of TestIntakeBacklogWhileServeIsDown.
const (
	intakeApp           = "instagram"
	intakeConversations = 100
	// intakeDecideTimeout bounds how long serve may take to decide the
	// whole backlog. It is longer than intake.AckWait, after which the
	// messages a killed serve had fetched are delivered again at the
	// latest.
	intakeDecideTimeout = intake.AckWait + 90*time.Second
)

// TestIntakeBacklogWhileServeIsDown: a producer publishes a backlog of
// intake commands while no serve runs (the intake's point: crosstalk need
// not be up when a producer publishes), and serve, started afterwards,
// decides every one of them exactly once and in per-conversation order. It
// runs the real binary as serve --nats-url on a nats-server process of its
// own, so that the stream outlives serve; serve runs once first so that the
// streams exist. The kill-9 variant kills serve with SIGKILL once a third of
// the backlog is in the stream CROSSTALK, and starts it again: what it had
// fetched and not acknowledged is delivered again and dedups.
func TestIntakeBacklogWhileServeIsDown(t *testing.T) {
	commands := 10_000
	if testing.Short() {
		commands = 2000
	}
	bin, natsBin := buildBinary(t), buildNATSServer(t)
	t.Run("restart", func(t *testing.T) { intakeBacklog(t, bin, natsBin, commands, false) })
	t.Run("kill-9", func(t *testing.T) { intakeBacklog(t, bin, natsBin, commands, true) })
}

// intakeBacklog runs one variant of TestIntakeBacklogWhileServeIsDown.
func intakeBacklog(t *testing.T, bin, natsBin string, commands int, kill bool) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*intakeDecideTimeout)
	defer cancel()
	ns := startNATSServer(t, natsBin)
	dir := t.TempDir()
	srv := newServeProcessArgs(t, bin, dir, ns.url, "serve", "--data", dir, "--nats-url", ns.url)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	nc := connectURLs(t, ns.url, "crashtest-intake")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	b := newBacklog(commands, intakeConversations, rand.New(rand.NewPCG(16, 1)))
	publishBacklog(ctx, t, nc, b)
	checkIntakeHolds(ctx, t, js, b)
	out := watchOutcomes(t, nc)
	base := streamLastSeq(ctx, t, js, events.StreamName)
	started := time.Now()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	killedAt := ""
	if kill {
		killedAt = killMidway(ctx, t, js, srv, base+uint64(commands/3))
	}
	waitIntakeDrained(ctx, t, js, srv, out, b)
	took := time.Since(started)
	queryOutcomes(ctx, t, client.New(nc), b)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, race := range srv.Races() {
		t.Errorf("serve reported a data race:\n%s", tail(race))
	}
	h := mustReadHistory(ctx, t, js)
	checkIntakeHistory(t, h, b)
	dups := out.check(t)
	t.Logf("%d intake commands over %d conversations decided in %s (%.0f/s, %s)%s; %d outcomes marked duplicate; total %s",
		commands, intakeConversations, took.Round(time.Millisecond), float64(commands)/took.Seconds(), raceNote(),
		killedAt, dups, time.Since(began).Round(time.Millisecond))
}

func raceNote() string {
	if raceEnabled {
		return "serve built with -race"
	}
	return "serve built without -race"
}

// backlog is what the producer published, in order.
type backlog struct {
	msgs  []*nats.Msg
	ids   []string          // command ids, in publish order
	conv  map[string]string // command id -> its conversation
	place map[string]int    // command id -> its place among its conversation's commands
}

// newBacklog makes n commands of intakeApp over conversations
// conversations, picked at random: each conversation's first command starts
// it (with an id the producer chose), every later one sends a message in it
// from either participant.
func newBacklog(n, conversations int, rng *rand.Rand) *backlog {
	b := &backlog{conv: map[string]string{}, place: map[string]int{}}
	convs := make([]string, conversations)
	counts := make([]int, conversations)
	for range n {
		c := rng.IntN(conversations)
		a, other := fmt.Sprintf("%s:intake-a%d", intakeApp, c), fmt.Sprintf("%s:intake-b%d", intakeApp, c)
		id := uuid.NewString()
		cmd := api.ConversationCommand{CommandEnvelope: api.CommandEnvelope{CommandID: id, Actor: a}}
		action := api.ActionMessageSend
		if convs[c] == "" {
			convs[c], action = uuid.NewString(), api.ActionConversationStart
			cmd.Participants = []string{other}
		} else {
			text := fmt.Sprintf("intake %d", counts[c])
			cmd.Text = &text
			if rng.IntN(2) == 0 {
				cmd.Actor = other
			}
		}
		cmd.ConversationID = convs[c]
		b.add(intakeMsg(action, id, cmd), id, convs[c], counts[c])
		counts[c]++
	}
	return b
}

func (b *backlog) add(m *nats.Msg, id, conv string, place int) {
	b.msgs = append(b.msgs, m)
	b.ids = append(b.ids, id)
	b.conv[id], b.place[id] = conv, place
}

// intakeMsg is the intake message of a command: its body on its action's
// intake subject, its command id as Nats-Msg-Id.
func intakeMsg(action, id string, body any) *nats.Msg {
	data, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	m := nats.NewMsg(api.IntakeSubject(intakeApp, action))
	m.Data = data
	m.Header.Set(api.MsgIDHeader, api.IntakeMsgID(intakeApp, id))
	return m
}

// publishBacklog publishes b with the ordinary JetStream async publish
// API, as a producer would, on one connection, so that the intake stream
// holds the messages in b's order, and checks that none failed.
func publishBacklog(ctx context.Context, t *testing.T, nc *nats.Conn, b *backlog) {
	t.Helper()
	failed := make(chan error, 1)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(2048),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			select {
			case failed <- fmt.Errorf("publish to %s: %w", m.Subject, err):
			default:
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	// Publish in windows below the pending limit, each awaited: a loaded
	// machine's nats-server may take longer than the stall wait (200 ms)
	// to ack a full window, and PublishMsgAsync then fails rather than
	// waits.
	const window = 1024
	for i, m := range b.msgs {
		if _, err := js.PublishMsgAsync(m); err != nil {
			t.Fatal(err)
		}
		if (i+1)%window == 0 || i == len(b.msgs)-1 {
			awaitPublished(ctx, t, js)
		}
	}
	select {
	case err := <-failed:
		t.Fatal(err)
	default:
	}
}

// checkIntakeHolds checks that the intake stream holds every message of b,
// as it must when no serve ran while they were published.
func checkIntakeHolds(ctx context.Context, t *testing.T, js jetstream.JetStream, b *backlog) {
	t.Helper()
	st, err := js.Stream(ctx, intake.AppStream(intakeApp))
	if err != nil {
		t.Fatal(err)
	}
	if n := st.CachedInfo().State.Msgs; n != uint64(len(b.msgs)) {
		t.Fatalf("the stream %s holds %d messages after %d were published with serve stopped", intake.AppStream(intakeApp), n, len(b.msgs))
	}
}

// awaitPublished waits until every async publish of js is acknowledged.
func awaitPublished(ctx context.Context, t *testing.T, js jetstream.JetStream) {
	t.Helper()
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
}

func streamLastSeq(ctx context.Context, t *testing.T, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	st, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	return st.CachedInfo().State.LastSeq
}

// killMidway kills serve with SIGKILL once the stream CROSSTALK has reached
// seq, and starts it again; it says how much of the intake was left then.
func killMidway(ctx context.Context, t *testing.T, js jetstream.JetStream, srv *serveProcess, seq uint64) string {
	t.Helper()
	for streamLastSeq(ctx, t, js, events.StreamName) < seq {
		if ctx.Err() != nil {
			t.Fatalf("the stream %s never reached seq %d:\n%s", events.StreamName, seq, tail(srv.Logs()))
		}
		time.Sleep(2 * time.Millisecond)
	}
	left, err := js.Stream(ctx, intake.AppStream(intakeApp))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Crash(0); err != nil {
		t.Fatal(err)
	}
	n := left.CachedInfo().State.Msgs
	if n == 0 {
		t.Errorf("serve had decided and acknowledged the whole intake when it was killed: the kill proves nothing")
	}
	return fmt.Sprintf(", killed with SIGKILL at seq %d with %d intake messages unacknowledged and restarted", seq, n)
}

// waitIntakeDrained waits until every message of b is acknowledged (the
// work-queue stream is empty, its consumer has nothing pending) and, unless
// out is nil, every command has had a success outcome on it.
func waitIntakeDrained(ctx context.Context, t *testing.T, js jetstream.JetStream, srv *serveProcess, out *outcomeLog, b *backlog) {
	t.Helper()
	deadline := time.Now().Add(intakeDecideTimeout)
	for {
		// Each look is bounded: a JetStream API request may go unanswered
		// while the cluster elects, and the next look asks again.
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		pending, ackPending, msgs, err := intakeState(sctx, js)
		cancel()
		decided := len(b.ids)
		if out != nil {
			decided = out.decided(b)
		}
		if err == nil && pending == 0 && ackPending == 0 && msgs == 0 && decided == len(b.ids) {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("after %s: the intake holds %d messages, its consumer %d pending and %d unacknowledged (%v); "+
				"%d of %d commands have a success outcome\n%s", intakeDecideTimeout, msgs, pending, ackPending, err,
				decided, len(b.ids), tail(srv.Logs()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// intakeState is what the intake's stream and consumer hold.
func intakeState(ctx context.Context, js jetstream.JetStream) (pending uint64, ackPending int, msgs uint64, err error) {
	cons, err := js.Consumer(ctx, intake.AppStream(intakeApp), intake.ConsumerName)
	if err != nil {
		return 0, 0, 0, err
	}
	ci, err := cons.Info(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	st, err := js.Stream(ctx, intake.AppStream(intakeApp))
	if err != nil {
		return 0, 0, 0, err
	}
	return ci.NumPending, ci.NumAckPending, st.CachedInfo().State.Msgs, nil
}

// queryOutcomes asks crosstalk.query.command for the outcome of a sample of
// b's commands: each is the success the outcome subject announced.
func queryOutcomes(ctx context.Context, t *testing.T, c *client.Client, b *backlog) {
	t.Helper()
	for i := 0; i < len(b.ids); i += max(1, len(b.ids)/20) {
		id := b.ids[i]
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var o api.Outcome
		err := c.Query(qctx, api.QueryCommand, api.CommandQuery{CommandID: id, App: intakeApp}, &o)
		cancel()
		if err != nil || o.CommandID != id || o.Reply == nil || o.Error != nil {
			t.Errorf("query command %s: %v, %+v; want its success outcome", id, err, o)
		}
	}
}

// checkIntakeHistory checks that each command of b has exactly one event in
// the stream, on its conversation's subject, and that each conversation's
// events are in the order its commands were published.
func checkIntakeHistory(t *testing.T, h history, b *backlog) {
	t.Helper()
	bad := 0
	report := func(format string, args ...any) {
		if bad++; bad <= 20 {
			t.Errorf(format, args...)
		}
	}
	for _, id := range b.ids {
		if n := h.causes[id]; n != 1 {
			report("intake command %s (place %d in its conversation) has %d events in the stream, want 1", id, b.place[id], n)
		}
	}
	last := map[string]storedEvent{}
	for _, e := range *h.order { // each conversation's events in their order
		seq := e.seq
		conv, mine := b.conv[e.causation]
		if !mine {
			continue
		}
		if e.subject != events.ConversationSubject(conv) {
			report("seq %d of command %s is on %s, want conversation %s", seq, e.causation, e.subject, conv)
		}
		if prev, seen := last[conv]; seen && b.place[e.causation] <= b.place[prev.causation] {
			report("seq %d: conversation %s decided its command %d (at %s) after its command %d (seq %d, at %s): out of intake order",
				seq, conv, b.place[e.causation], e.time.Format(time.StampMicro), b.place[prev.causation], prev.seq, prev.time.Format(time.StampMicro))
		}
		last[conv] = e
	}
	if bad > 20 {
		t.Errorf("... %d problems in all", bad)
	}
}
