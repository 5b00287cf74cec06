package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/service"
)

// The newest policy decides, on any node: three instances on one server,
// twenty policies alternately denying and allowing instagram and
// messenger to start conversations, each followed at once by a cross-app
// start; each request goes out on a random instance's connection and is
// answered by whichever instance the queue group picks. Each start is
// decided by the policy published just before it (20 of 20). Before the
// command path read the policy subject's last sequence from the stream's
// leader, an instance whose policy aggregate had not caught up (its closer
// refreshes it every PolicyCheckInterval, a second here) decided with the
// policy before.
func TestTheNewestPolicyDecidesOnAnyInstance(t *testing.T) {
	insts := startInstances(t, 3, service.Options{PolicyCheckInterval: time.Second})
	rng := rand.New(rand.NewPCG(23, 3))
	ctx, cancel := context.WithTimeout(insts[0].ctx, 60*time.Second)
	defer cancel()
	conns := make([]*client.Client, len(insts))
	for i, h := range insts {
		conns[i] = client.New(h.nc)
	}
	right := 0
	for i := range 20 {
		allow := i%2 == 1 // v1 allows: the first publish denies
		version := uint64(i + 2)
		pub, err := conns[rng.IntN(len(conns))].PublishPolicy(ctx, uuid.NewString(), startPolicy(version, allow))
		if err != nil || pub.Version != version {
			t.Fatalf("publish v%d: %+v, %v", version, pub, err)
		}
		r, err := conns[rng.IntN(len(conns))].Command(ctx, "instagram", api.ActionConversationStart, map[string]any{
			"command_id": uuid.NewString(), "actor": alice, "participants": []string{string(bob)}})
		switch {
		case allow && err == nil && r.PolicyVersion == version:
			right++
		case !allow && refusedBy(err, version):
			right++
		default:
			t.Errorf("start after v%d (allows: %v): %+v, %v", version, allow, r, err)
		}
	}
	if right != 20 {
		t.Fatalf("%d of 20 starts were decided by the policy published just before them", right)
	}
}

// refusedBy reports whether err is a cross_app_not_allowed refusal under
// policy version v.
func refusedBy(err error, v uint64) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Code == api.CodeCrossAppNotAllowed && e.PolicyVersion == v
}

// startPolicy is policy version v: instagram and messenger may start
// conversations with each other and send, or (allow false) nothing at all.
func startPolicy(v uint64, allow bool) json.RawMessage {
	links := `[]`
	if allow {
		links = `[{"from":"instagram","to":"messenger","start_conversation":true,"send":true},
			{"from":"messenger","to":"instagram","start_conversation":true,"send":true}]`
	}
	return json.RawMessage(fmt.Sprintf(`{"version":%d,"name":"alternate-%d","effective_at":"2020-09-30T00:00:00Z","links":%s}`,
		v, v, links))
}

// leaderReads counts the service's leader reads of a subject's last
// sequence.
// leader reads of a subject's last sequence, and fails them while fail is
// set.
type leaderReads struct {
	service.Log
	n    *atomic.Int64
	fail *atomic.Bool
}

func (l leaderReads) LastSeqOn(ctx context.Context, subject string) (uint64, error) {
	l.n.Add(1)
	if l.fail != nil && l.fail.Load() {
		return 0, eventlog.ErrUnavailable
	}
	return l.Log.LastSeqOn(ctx, subject)
}

// Only commands the policy decides pay the leader read: a cross-app start
// and send do, one each; a same-app start and send, a read marker and an
// account's command do not.
func TestOnlyCommandsThePolicyDecidesReadTheNewestPolicy(t *testing.T) {
	h := newHarness(t)
	var reads atomic.Int64
	h.wrapLog = func(l service.Log) service.Log { return leaderReads{Log: l, n: &reads} }
	h.restart(service.Options{})
	h.publishFile("v1-2020-cross-app.json")
	same := h.must(bob, api.ActionConversationStart, map[string]any{"participants": []string{"messenger:carol"}})
	m := h.must(bob, api.ActionMessageSend, map[string]any{"conversation_id": same.ConversationID, "text": "same app"})
	h.must(bob, api.ActionMessageRead, map[string]any{"conversation_id": same.ConversationID, "message_id": m.MessageID})
	h.must(bob, api.ActionPresenceSet, map[string]any{"status": "idle"})
	if n := reads.Load(); n != 0 {
		t.Fatalf("same-app commands made %d leader reads of the policy; want 0", n)
	}
	cross := h.must(alice, api.ActionConversationStart, map[string]any{"participants": []string{string(bob)}})
	h.must(alice, api.ActionMessageSend, map[string]any{"conversation_id": cross.ConversationID, "text": "cross app"})
	if n := reads.Load(); n != 2 {
		t.Fatalf("a cross-app start and send made %d leader reads of the policy; want 2", n)
	}
}

// An intake wave's commands were all sent before it began: one leader read
// serves the whole wave, however many cross-app commands it holds. A read
// that fails refuses them 503 unavailable, which the intake retries.
func TestAnIntakeWaveReadsTheNewestPolicyOnce(t *testing.T) {
	h := newHarness(t)
	var reads atomic.Int64
	var fail atomic.Bool
	h.wrapLog = func(l service.Log) service.Log { return leaderReads{Log: l, n: &reads, fail: &fail} }
	h.restart(service.Options{})
	h.publishFile("v1-2020-cross-app.json")
	wave := func() []intake.Decision {
		var cmds []intake.Command
		for i := range 8 {
			body := fmt.Sprintf(`{"command_id":%q,"actor":"instagram:w%d","participants":["messenger:v%d"]}`, uuid.NewString(), i, i)
			cmds = append(cmds, intake.Command{App: "instagram", Action: api.ActionConversationStart, Body: []byte(body)})
		}
		return h.svc.IntakeAll(h.ctx, cmds)
	}
	for i, d := range wave() {
		if d.Err != nil || d.Reply.PolicyVersion != 1 {
			t.Fatalf("start %d of the wave: %+v, %v", i, d.Reply, d.Err)
		}
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("a wave of 8 cross-app starts made %d leader reads; want 1", n)
	}
	fail.Store(true)
	for i, d := range wave() {
		if !errors.Is(d.Err, service.ErrUnavailable) {
			t.Fatalf("start %d with the leader read failing: %v; want unavailable", i, d.Err)
		}
	}
}
