package crashtest

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
)

// outcomeLog is every outcome serve published on intakeApp's outcome
// subject. A command may have several: a serve killed after publishing an
// outcome and before acknowledging the message decides it again after its
// restart, and the command dedups to the same reply, marked duplicate.
type outcomeLog struct {
	mu         sync.Mutex
	ok         map[string]int    // command id -> success outcomes
	events     map[string]string // command id -> the event its first success named
	mismatched []string          // outcomes naming another event than the command's first
	duplicates int
	refused    []api.Outcome
	undecoded  []string
}

// watchOutcomes subscribes to intakeApp's outcomes on nc, without a limit
// on what may wait in the client: dropping one would fail the test.
func watchOutcomes(t *testing.T, nc *nats.Conn) *outcomeLog {
	t.Helper()
	o := &outcomeLog{ok: map[string]int{}, events: map[string]string{}}
	sub, err := nc.Subscribe(api.OutcomeSubject(intakeApp), o.add)
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return o
}

func (o *outcomeLog) add(m *nats.Msg) {
	var out api.Outcome
	err := json.Unmarshal(m.Data, &out)
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case err != nil || out.App != intakeApp:
		o.undecoded = append(o.undecoded, string(m.Data))
	case out.Reply == nil || out.Error != nil:
		o.refused = append(o.refused, out)
	default:
		o.ok[out.CommandID]++
		if out.Reply.Duplicate {
			o.duplicates++
		}
		if prev, seen := o.events[out.CommandID]; !seen {
			o.events[out.CommandID] = out.Reply.EventID
		} else if prev != out.Reply.EventID {
			o.mismatched = append(o.mismatched, out.CommandID+": "+prev+" then "+out.Reply.EventID)
		}
	}
}

// decided is how many commands of b have had a success outcome.
func (o *outcomeLog) decided(b *backlog) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, id := range b.ids {
		if o.ok[id] > 0 {
			n++
		}
	}
	return n
}

// check checks that no outcome was a refusal or undecodable, and that
// every outcome of one command names the same event; it returns how many
// outcomes were marked duplicate.
func (o *outcomeLog) check(t *testing.T) int {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, out := range o.refused {
		if i == 10 {
			t.Errorf("... %d refusals in all", len(o.refused))
			break
		}
		t.Errorf("command %s (%s) refused: %+v", out.CommandID, out.Action, out.Error)
	}
	for _, data := range o.undecoded[:min(10, len(o.undecoded))] {
		t.Errorf("an outcome that is not an %s outcome: %s", intakeApp, data)
	}
	for _, m := range o.mismatched[:min(10, len(o.mismatched))] {
		t.Errorf("the outcomes of one command name different events: %s", m)
	}
	return o.duplicates
}
