package service_test

import (
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/service"
)

// conflicts counts the service's conflicts that it retried, and nothing
// else.
type conflicts struct{ retried atomic.Int64 }

func (*conflicts) Answered(string, string, string, time.Duration) {}
func (*conflicts) Appended(time.Duration)                         {}
func (*conflicts) CacheLookup(bool)                               {}
func (*conflicts) CommandPoisoned()                               {}

func (c *conflicts) Conflicted(retried bool) {
	if retried {
		c.retried.Add(1)
	}
}

// sendCmd is a message.send by alice on conv, with text, as the intake
// takes it.
func sendCmd(t *testing.T, id, conv, text string) intake.Command {
	t.Helper()
	body, err := json.Marshal(map[string]any{"command_id": id, "actor": alice, "conversation_id": conv, "text": text})
	if err != nil {
		t.Fatal(err)
	}
	return intake.Command{App: alice.App(), Action: "message.send", Body: body}
}

// A wave decides and appends its commands together, each as request/reply
// would: two commands on one conversation in the order given, a command
// whose cached aggregate is behind the log retried after a conflict, a
// command id used before answered as a duplicate, a refusal for its own
// command only.
func TestIntakeAllDecidesAWave(t *testing.T) {
	obs := &conflicts{}
	insts := startInstances(t, 2, service.Options{Observer: obs})
	h, other := insts[0], insts[1]
	convs := startCrossApp(h, 2)
	c1, c2 := convs[0], convs[1]
	first := sendCmd(t, uuid.NewString(), c1, "first")
	warm := h.svc.IntakeAll(h.ctx, []intake.Command{first, sendCmd(t, uuid.NewString(), c2, "warm")})
	if warm[0].Err != nil || warm[1].Err != nil {
		t.Fatalf("warming: %+v", warm)
	}
	// Another instance appends to c2: h's cached c2 is now behind.
	if d := other.svc.IntakeAll(h.ctx, []intake.Command{sendCmd(t, uuid.NewString(), c2, "elsewhere")}); d[0].Err != nil {
		t.Fatal(d[0].Err)
	}
	wave := []intake.Command{
		sendCmd(t, uuid.NewString(), c1, "a"),
		sendCmd(t, uuid.NewString(), c2, "b"),
		sendCmd(t, uuid.NewString(), c1, "c"),
		first,
		sendCmd(t, uuid.NewString(), uuid.NewString(), "nowhere"),
	}
	got := h.svc.IntakeAll(h.ctx, wave)
	for i, d := range got[:4] {
		if d.Err != nil {
			t.Fatalf("command %d: %v", i, d.Err)
		}
	}
	if !got[3].Reply.Duplicate || got[3].Reply.StreamSeq != warm[0].Reply.StreamSeq {
		t.Errorf("a command id used before: %+v, want the first reply (seq %d) as a duplicate", got[3].Reply, warm[0].Reply.StreamSeq)
	}
	if !errors.Is(got[4].Err, aggregate.ErrConversationNotFound) {
		t.Errorf("a send to no conversation: %v, want ErrConversationNotFound", got[4].Err)
	}
	if obs.retried.Load() == 0 {
		t.Error("no conflict retried: c2's cached state was behind the log")
	}
	checkTexts(t, h, c1, "first", "a", "c")
	checkTexts(t, h, c2, "warm", "elsewhere", "b")
}

// checkTexts reads conv's messages back from the log, in order.
func checkTexts(t *testing.T, h *harness, conv string, want ...string) {
	t.Helper()
	msgs, err := h.log.Load(h.ctx, events.ConversationSubject(conv), 0)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range msgs {
		e, err := events.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Text string `json:"text"`
		}
		if e.Type == events.MessageSent && json.Unmarshal(e.Data, &d) == nil {
			texts = append(texts, d.Text)
		}
	}
	if len(texts) != len(want) {
		t.Fatalf("%s: texts %q, want %q", conv, texts, want)
	}
	for i := range want {
		if texts[i] != want[i] {
			t.Fatalf("%s: texts %q, want %q", conv, texts, want)
		}
	}
}

// A wave on a restarted service meets its aggregates cold: it loads them
// all (in parallel, each within its own bound) and decides every command.
func TestIntakeAllLoadsColdAggregates(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	convs := startCrossApp(h, 100)
	h.restart(service.Options{})
	wave := make([]intake.Command, len(convs))
	for i, c := range convs {
		wave[i] = sendCmd(t, uuid.NewString(), c, "cold")
	}
	for i, d := range h.svc.IntakeAll(h.ctx, wave) {
		if d.Err != nil || d.Reply.ConversationID != convs[i] || d.Reply.Version != 2 {
			t.Fatalf("command %d on a cold conversation: %+v %v", i, d.Reply, d.Err)
		}
	}
	checkTexts(t, h, convs[99], "cold")
}
