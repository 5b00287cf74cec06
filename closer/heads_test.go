package closer

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
)

var seedFlag = flag.Int64("seed", 0, "seed of TestHeadClosingDecidesAsTheFold (0: from the clock)")

// fixedClock is a Clock that stands still.
type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// testApps are the apps the generated conversations draw from. They are
// made up: the closer knows no app by name.
var testApps = []events.App{"alpha", "beta", "gamma", "delta"}

// history is one generated conversation, folded from its events as the
// command path would, and the log messages the views are built from.
type history struct {
	folded *aggregate.Conversation
	msgs   int
}

// generator builds random conversations whose events interleave in one log,
// as on the real stream, where other subjects' events fall between them.
type generator struct {
	rng   *rand.Rand
	now   time.Time
	seq   uint64
	msgs  []events.Message
	open  *aggregate.Policy // lets every app do everything: the history's policy
	close *aggregate.Policy // denies every cross-app pair: closes some histories
}

func newGenerator(seed int64) *generator {
	g := &generator{rng: rand.New(rand.NewSource(seed)), now: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	all := &aggregate.Policy{Version: 1, Name: "open", EffectiveAt: g.now}
	for _, from := range testApps {
		for _, to := range testApps {
			if from != to {
				all.Links = append(all.Links, events.LinkData{From: string(from), To: string(to), StartConversation: true,
					Send: true, Call: true, SeeActivityStatus: true, SeeReadReceipts: true})
			}
		}
	}
	g.open, g.close = all, &aggregate.Policy{Version: 2, Name: "closed", EffectiveAt: g.now}
	return g
}

func (g *generator) uuid() string {
	id, err := uuid.NewRandomFromReader(g.rng)
	if err != nil {
		panic(err)
	}
	return id.String()
}

func (g *generator) account() events.Account {
	app := testApps[g.rng.Intn(len(testApps))]
	return events.Account(fmt.Sprintf("%s:u%d", app, g.rng.Intn(6)))
}

// step decides cmd against h, records the event at the next sequence and
// folds it. A command the aggregate refuses (a read of one's own message,
// say) is skipped: the history only holds what the command path appends.
func (g *generator) step(t *testing.T, h *history, cmd aggregate.Command, p *aggregate.Policy) {
	t.Helper()
	g.now = g.now.Add(time.Duration(1+g.rng.Intn(5000)) * time.Millisecond)
	ev, err := h.folded.Decide(cmd, p, g.now)
	if err != nil {
		return
	}
	data, err := events.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	g.seq++
	r, err := events.Record(g.seq, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.folded.Evolve(r); err != nil {
		t.Fatal(err)
	}
	g.msgs = append(g.msgs, events.Message{Seq: g.seq, Subject: events.ConversationSubject(h.folded.ID), Data: data})
	h.msgs++
}

// start begins a conversation of 2 to 5 participants of random apps.
func (g *generator) start(t *testing.T) *history {
	actor, cmdID := g.account(), g.uuid()
	var others []events.Account
	for range 1 + g.rng.Intn(4) {
		if a := g.account(); a != actor {
			others = append(others, a)
		}
	}
	if len(others) == 0 {
		others = append(others, events.Account(string(actor)+"x"))
	}
	h := &history{folded: aggregate.NewConversation(events.ConversationIDFor(actor.App(), cmdID))}
	g.step(t, h, aggregate.StartConversation{Meta: aggregate.Meta{CommandID: cmdID, App: actor.App(), Actor: actor},
		Participants: others}, g.open)
	if h.msgs == 0 {
		t.Fatalf("start refused: %v %v", actor, others)
	}
	return h
}

// next appends one random event to h: a message, a read, a reaction, a
// call started or ended.
func (g *generator) next(t *testing.T, h *history) {
	c := h.folded
	actor := c.Participants[g.rng.Intn(len(c.Participants))]
	meta := aggregate.Meta{CommandID: g.uuid(), App: actor.App(), Actor: actor}
	msgID, callID := fmt.Sprint("m", g.rng.Intn(4)), fmt.Sprint("c", g.rng.Intn(2))
	var cmd aggregate.Command
	switch g.rng.Intn(7) {
	case 0, 1:
		cmd = aggregate.SendMessage{Meta: meta, MessageID: msgID, Text: "hello"}
	case 2:
		cmd = aggregate.ReadMessage{Meta: meta, MessageID: msgID}
	case 3:
		cmd = aggregate.ReactToMessage{Meta: meta, MessageID: msgID, Reaction: "+1"}
	case 4:
		cmd = aggregate.StartCall{Meta: meta, CallID: callID, Media: "audio"}
	case 5:
		cmd = aggregate.EndCall{Meta: meta, CallID: callID}
	default:
		cmd = aggregate.SendMessage{Meta: meta, Text: "hi"}
	}
	g.step(t, h, cmd, g.open)
}

// policy returns a random policy: random links among testApps, some
// letting send, some requiring opt-in or bounding the participants; now
// and then none at all (before any policy is in force).
func (g *generator) policy() *aggregate.Policy {
	if g.rng.Intn(10) == 0 {
		return nil
	}
	p := &aggregate.Policy{Version: uint64(3 + g.rng.Intn(100)), Name: "random", EffectiveAt: g.now}
	for _, from := range testApps {
		for _, to := range testApps {
			if from == to || g.rng.Intn(3) == 0 {
				continue
			}
			l := events.LinkData{From: string(from), To: string(to), StartConversation: g.rng.Intn(2) == 0,
				Send: g.rng.Intn(4) != 0, Call: g.rng.Intn(2) == 0, RequiresOptIn: g.rng.Intn(5) == 0}
			if g.rng.Intn(4) == 0 {
				l.MaxParticipants = 2 + g.rng.Intn(3)
			}
			p.Links = append(p.Links, l)
		}
	}
	return p
}

// generate builds n conversations with up to maxEvents events after the
// start each, interleaved in one log; about a third of them end closed by a
// policy (those of a single app are not affected and stay open).
func (g *generator) generate(t *testing.T, n, maxEvents int) []*history {
	hs := make([]*history, n)
	want := make([]int, n)
	for i := range hs {
		hs[i], want[i] = g.start(t), 1+g.rng.Intn(maxEvents+1)
	}
	// Many random commands are refused (a read of a message never sent);
	// try until each history has its events, within a bound.
	for tries, busy := 0, true; busy && tries < 20*maxEvents; tries++ {
		busy = false
		for _, i := range g.rng.Perm(n) {
			if hs[i].msgs < want[i] {
				g.next(t, hs[i])
				busy = true
			}
		}
	}
	for _, i := range g.rng.Perm(n) {
		if g.rng.Intn(3) == 0 {
			g.step(t, hs[i], aggregate.Close{CommandID: g.uuid(), Policy: g.close}, g.close)
		}
	}
	return hs
}

// Deciding a closing from the views' head of a conversation (what the
// closer pipelines) appends exactly what deciding it from the conversation
// folded from its full history would: the same bytes (type, subject, data,
// id, stream version, chain hash), expecting the same sequence, or the same
// refusal. The heads come from a real projector store fed the same log.
func TestHeadClosingDecidesAsTheFold(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (rerun with -seed=%d)", seed, seed)
	g := newGenerator(seed)
	hs := g.generate(t, 400, 30)
	heads := viewHeads(t, g.msgs, hs)
	c := &Closer{opts: Options{Clock: fixedClock(g.now.Add(time.Hour))}}
	outcomes := map[string]int{}
	for _, h := range hs {
		head, ok := heads[h.folded.ID]
		if !ok {
			t.Fatalf("seed %d: no head in the views for %s", seed, h.folded.ID)
		}
		for range 4 {
			p, causation := g.policy(), g.uuid()
			outcome, err := sameClosing(c, h.folded, head, p, causation)
			if err != nil {
				t.Fatalf("seed %d: conversation %s (%d events, closed %v), policy %+v:\n%v",
					seed, h.folded.ID, h.msgs, h.folded.Closed, p, err)
			}
			outcomes[outcome]++
		}
	}
	t.Logf("decisions %v over %d conversations and %d events", outcomes, len(hs), len(g.msgs))
	for _, o := range []string{"closed", "refused: already closed", "refused: not affected"} {
		if outcomes[o] == 0 {
			t.Errorf("seed %d: no decision was %q; the generator misses a case", seed, o)
		}
	}
}

// viewHeads applies msgs to a fresh projector store and reads back the
// head of every conversation in hs.
func viewHeads(t *testing.T, msgs []events.Message, hs []*history) map[string]projector.ConversationHead {
	t.Helper()
	store, err := projector.Open(projector.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Apply(msgs); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(hs))
	for i, h := range hs {
		ids[i] = h.folded.ID
	}
	out := make(map[string]projector.ConversationHead, len(hs))
	err = store.ConversationHeads(ids, func(h projector.ConversationHead) error {
		out[h.ConversationID] = h
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameClosing compares the closing decided from head with the one decided
// from folded, both directly (aggregate.ClosingState) and as the closer
// turns it into a log entry (headClosing). It names the outcome: closed,
// or the refusal.
func sameClosing(c *Closer, folded *aggregate.Conversation, head projector.ConversationHead, p *aggregate.Policy, causation string) (string, error) {
	now := c.opts.Clock.Now()
	cmd := aggregate.Close{CommandID: causation, Policy: p}
	want, wantErr := folded.Decide(cmd, p, now)
	pos := aggregate.Stream{Version: head.Version, LastSeq: head.LastSeq, LastHash: head.LastHash}
	got, gotErr := aggregate.ClosingState(head.ConversationID, head.Participants, head.Closed, pos).Decide(cmd, p, now)
	if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) {
		return "", fmt.Errorf("refusal from the head %v, from the fold %v", gotErr, wantErr)
	}
	entry, decided, err := c.headClosing(head, p, causation)
	if err != nil {
		return "", fmt.Errorf("headClosing: %w", err)
	}
	if wantErr != nil {
		refused := errors.Is(wantErr, aggregate.ErrConversationClosed) || errors.Is(wantErr, aggregate.ErrNotAffected)
		if entry != nil || decided != refused {
			return "", fmt.Errorf("fold refused (%v); headClosing gave entry %v, decided %v", wantErr, entry, decided)
		}
		return refusal(wantErr), nil
	}
	wantData, err := events.Encode(want)
	if err != nil {
		return "", err
	}
	if gotData, err := events.Encode(got); err != nil || !bytes.Equal(gotData, wantData) {
		return "", fmt.Errorf("decided from the head:\n%s\nfrom the fold:\n%s (%v)", gotData, wantData, err)
	}
	if entry == nil || !decided {
		return "", fmt.Errorf("fold closes; headClosing gave entry %v, decided %v", entry, decided)
	}
	wantEntry := fmt.Sprintf("%s expect %d id %s", events.ConversationSubject(folded.ID), folded.Stream.LastSeq, causation+"/"+folded.ID)
	gotEntry := fmt.Sprintf("%s expect %d id %s", entry.Subject, entry.ExpectedSeq, entry.MsgID)
	if gotEntry != wantEntry || !bytes.Equal(entry.Data, wantData) {
		return "", fmt.Errorf("entry %s\n%s\nwant %s\n%s", gotEntry, entry.Data, wantEntry, wantData)
	}
	return "closed", nil
}

// refusal names a refused closing for the test's tally.
func refusal(err error) string {
	switch {
	case errors.Is(err, aggregate.ErrConversationClosed):
		return "refused: already closed"
	case errors.Is(err, aggregate.ErrNotAffected):
		return "refused: not affected"
	}
	return "refused: " + err.Error()
}

// BenchmarkHeadClosing decides and encodes one closing from a head, the
// closer's own CPU per closing besides reading the head and appending.
func BenchmarkHeadClosing(b *testing.B) {
	heads := crossApp(1)
	c := newTestCloser(heads, lastSeqOnly{}, &memCommands{}, time.Hour)
	p := &aggregate.Policy{Version: 2, Name: "apart"}
	b.ReportAllocs()
	for b.Loop() {
		e, decided, err := c.headClosing(heads["a"], p, "ev-2")
		if err != nil || !decided || e == nil {
			b.Fatalf("entry %v, decided %v: %v", e, decided, err)
		}
	}
}
