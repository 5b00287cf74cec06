package closer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// TestClosingSpec runs the closer's choice of conversations, written as
// data in testdata/selection (docs/policy.md, "What a policy change
// writes"): which open conversations a policy closes, which it leaves
// open, and which an opt-out closes. Each file feeds a real projector
// store (the closer's views) and runs the real Closer over it; its command
// path is a stand-in that decides each closing with the aggregate, as the
// service's does. The directives are:
//
//	policy ref=R          the input is a policy document (docs/policy.md)
//	----
//	policy vN
//
//	given                 events applied to the views, one a line:
//	  started <conv> <account>...       (the first starts it)
//	  closed <conv> policy_version=N
//	  opted-in <account>...             (the command side's opt-ins)
//	----
//	ok
//
//	close policy=R        the closer's scan when R takes effect
//	opt-out account=A policy=R          A withdrew its opt-in under R
//	----
//	<conv>: closed reason=<r> | open | open, not affected | was closed
//
// "open" is a conversation the closer did not select; "open, not affected"
// one it selected and the aggregate refused to close; "opt-ins asked" marks
// a closing decided with the accounts' opt-ins looked up.
func TestClosingSpec(t *testing.T) {
	datadriven.Walk(t, "testdata/selection", func(t *testing.T, path string) {
		s := newClosingSpec(t)
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			switch td.Cmd {
			case "policy":
				return s.definePolicy(t, td)
			case "given":
				for _, l := range specLines(td.Input) {
					s.given(t, strings.Fields(l))
				}
				if err := s.views.Apply(s.pending); err != nil {
					t.Fatal(err)
				}
				s.pending = nil
				return "ok"
			case "close", "opt-out":
				return s.run(t, td)
			}
			t.Fatalf("%s: unknown directive %q", td.Pos, td.Cmd)
			return ""
		})
	})
}

// closingSpec is one file's world: the views, the conversations in the
// order they started, and the command side's opt-ins and closings.
type closingSpec struct {
	views    *projector.Store
	seq      uint64
	now      time.Time
	pending  []events.Message
	policies map[string]*aggregate.Policy
	convs    []string
	cmds     *decidingCommands
}

func newClosingSpec(t *testing.T) *closingSpec {
	store, err := projector.Open(projector.Options{Dir: t.TempDir(), Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	s := &closingSpec{views: store, now: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		policies: map[string]*aggregate.Policy{}}
	s.cmds = &decidingCommands{views: store, optedIn: map[events.Account]bool{}, now: s.now}
	return s
}

func (s *closingSpec) definePolicy(t *testing.T, td *datadriven.TestData) string {
	var ref string
	td.ScanArgs(t, "ref", &ref)
	p, err := aggregate.ParsePolicy([]byte(td.Input))
	if err != nil {
		t.Fatalf("%s: %v", td.Pos, err)
	}
	s.policies[ref] = &p
	return fmt.Sprintf("policy v%d", p.Version)
}

// given appends the event of one `given` line (or notes opt-ins).
func (s *closingSpec) given(t *testing.T, w []string) {
	switch {
	case w[0] == "started" && len(w) >= 3:
		others := make([]events.Account, 0, len(w)-3)
		for _, a := range w[3:] {
			others = append(others, events.Account(a))
		}
		s.event(t, w[1], events.ConversationStarted, testkit.Started(w[1], events.Account(w[2]), others...))
		s.convs = append(s.convs, w[1])
	case w[0] == "closed" && len(w) == 3:
		var v uint64
		if _, err := fmt.Sscanf(w[2], "policy_version=%d", &v); err != nil {
			t.Fatalf("given closed: %v", err)
		}
		s.event(t, w[1], events.ConversationClosed, events.ConversationClosedData{Reason: events.ClosedByPolicy, PolicyVersion: v})
	case w[0] == "opted-in":
		for _, a := range w[1:] {
			s.cmds.optedIn[events.Account(a)] = true
		}
	default:
		t.Fatalf("given: cannot read %q", strings.Join(w, " "))
	}
}

func (s *closingSpec) event(t *testing.T, conv string, typ events.Type, data any) {
	s.now = s.now.Add(time.Second)
	e, err := events.New(typ, conv, s.now, events.NewID(), 0, data)
	if err != nil {
		t.Fatal(err)
	}
	e.ID = events.NewID()
	s.seq++
	s.pending = append(s.pending, events.Message{Seq: s.seq, Subject: events.ConversationSubject(conv), Data: testkit.Encode(t, e)})
}

// run runs the closer's scan (close) or an opt-out's closing under the
// named policy, then prints what became of every conversation.
func (s *closingSpec) run(t *testing.T, td *datadriven.TestData) string {
	var ref string
	td.ScanArgs(t, "policy", &ref)
	p, ok := s.policies[ref]
	if !ok {
		t.Fatalf("%s: no policy %q in this file", td.Pos, ref)
	}
	wasClosed := s.closedNow(t)
	s.cmds.reset()
	c := New(func() Views { return s.views }, lastSeqOnly{}, s.cmds, onePolicy{p},
		Options{Clock: fixedClock(s.now), Logger: testkit.Quiet()})
	var err error
	if td.Cmd == "close" {
		_, err = c.closeAffected(context.Background(), p)
	} else {
		var acct string
		td.ScanArgs(t, "account", &acct)
		err = c.closeOptOut(context.Background(), OptOut{Account: events.Account(acct), Seq: s.seq, EventID: "opt-out"})
	}
	if err != nil {
		t.Fatalf("%s: %v", td.Pos, err)
	}
	return s.outcome(wasClosed)
}

// closedNow returns the conversations the views hold closed.
func (s *closingSpec) closedNow(t *testing.T) map[string]bool {
	closed := map[string]bool{}
	for _, id := range s.convs {
		v, err := s.views.Conversation(id)
		if err != nil {
			t.Fatal(err)
		}
		closed[id] = v.Closed
	}
	return closed
}

func (s *closingSpec) outcome(wasClosed map[string]bool) string {
	var out strings.Builder
	for _, id := range s.convs {
		r, asked := s.cmds.asked[id]
		switch {
		case wasClosed[id] && !asked:
			fmt.Fprintf(&out, "%s: was closed\n", id)
		case !asked:
			fmt.Fprintf(&out, "%s: open\n", id)
		default:
			fmt.Fprintf(&out, "%s: %s\n", id, r)
		}
	}
	return out.String()
}

// decidingCommands is the command path as the service has it, less the
// log: it decides each Close with the aggregate against the views' state
// of the conversation (aggregate.ClosingState) and records the outcome.
type decidingCommands struct {
	views   *projector.Store
	now     time.Time
	optedIn map[events.Account]bool
	mu      sync.Mutex
	asked   map[string]string
}

func (d *decidingCommands) reset() { d.asked = map[string]string{} }

func (d *decidingCommands) Close(_ context.Context, id string, cmd aggregate.Close, _ string) (bool, error) {
	v, err := d.views.Conversation(id)
	if err != nil {
		return false, err
	}
	parts := events.AccountsOf(v.Participants)
	head := aggregate.ClosingState(id, parts, v.Closed, aggregate.Stream{Version: v.Version})
	e, err := head.Decide(cmd, cmd.Policy, d.now)
	outcome := "open, not affected"
	if err == nil {
		var data events.ConversationClosedData
		if err := json.Unmarshal(e.Data, &data); err != nil {
			return false, err
		}
		outcome = "closed reason=" + string(data.Reason)
	} else if !errors.Is(err, aggregate.ErrNotAffected) {
		outcome = "refused: " + err.Error()
	}
	if cmd.OptedIn != nil {
		outcome += " (opt-ins asked)"
	}
	d.mu.Lock()
	d.asked[id] = outcome
	d.mu.Unlock()
	return err == nil, err
}

func (d *decidingCommands) OptIns(_ context.Context, accounts []events.Account) (map[events.Account]bool, error) {
	out := make(map[events.Account]bool, len(accounts))
	for _, a := range accounts {
		out[a] = d.optedIn[a]
	}
	return out, nil
}

func (d *decidingCommands) Forget(string) {}

// specLines returns the non-empty, non-comment lines of input.
func specLines(input string) []string {
	var out []string
	for _, l := range strings.Split(input, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
