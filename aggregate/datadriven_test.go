package aggregate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/crosstalk-dev/crosstalk/events"
)

// TestDataDriven runs the scenarios under testdata/. Each file reads like the
// contract; the directives are:
//
//	policy ref=R version=N name=S effective_at=T   define policy R for the file
//	<from> -> <to>: <actions | all | none>          (one link per line)
//	----
//	valid | error <Sentinel>: <message>
//
//	conversation [policy=R] [now=T] [show=(chain, state)]
//	account name=<account> [policy=R] [now=T] [show=...]
//	policies [now=T] [show=...]
//	given <event> key=value ...                     prior events, in order
//	when <command> key=value ...                    the command decided
//	----
//	<type> key=value ... | error <Sentinel>: <message>
//
//	allows policy=R                                 ask Policy.Allows / AllowsAmong
//	parse-policy                                    ParsePolicy on the JSON input
//
// policy=R is the policy in force passed to Decide (none by default: only
// same-app pairs are allowed; the policy aggregate ignores it). The clock is fixed (defaultNow, given in a
// non-UTC zone so that the UTC conversion is checked). Every decided event is
// also checked for its chain fields, id, determinism and that Decide left the
// state alone; see scenario.play.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		d := &driver{policies: map[string]*Policy{}}
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			switch td.Cmd {
			case "policy":
				return d.definePolicy(t, td)
			case "parse-policy":
				return d.parsePolicy(td)
			case "allows":
				return d.allows(t, td)
			case "conversation":
				return d.conversation(t, td)
			case "account":
				return d.account(t, td)
			case "policies":
				return d.policiesScenario(t, td)
			}
			t.Fatalf("%s: unknown directive %q", td.Pos, td.Cmd)
			return ""
		})
	})
}

// defaultNow is 2024-03-01T12:00:00Z, written in UTC+1.
var defaultNow = time.Date(2024, 3, 1, 13, 0, 0, 0, time.FixedZone("UTC+1", 3600))

// convID is the conversation every conversation scenario is about; it
// prints as "conv".
const convID = "018e0000-0000-7000-8000-00000000c0de"

type driver struct {
	policies map[string]*Policy
}

func (d *driver) policy(t *testing.T, ref string) *Policy {
	if ref == "none" {
		return nil
	}
	p, ok := d.policies[ref]
	if !ok {
		t.Fatalf("no policy %q defined in this file", ref)
	}
	return p
}

func (d *driver) definePolicy(t *testing.T, td *datadriven.TestData) string {
	var ref, eff string
	td.ScanArgs(t, "ref", &ref)
	p := &Policy{}
	td.MaybeScanArgs(t, "version", &p.Version)
	td.MaybeScanArgs(t, "name", &p.Name)
	if td.MaybeScanArgs(t, "effective_at", &eff) {
		at, err := time.Parse(time.RFC3339, eff)
		if err != nil {
			t.Fatalf("%s: %v", td.Pos, err)
		}
		p.EffectiveAt = at
	}
	for _, l := range inputLines(td.Input) {
		link, err := parseLink(l)
		if err != nil {
			t.Fatalf("%s: %v", td.Pos, err)
		}
		p.Links = append(p.Links, link)
	}
	d.policies[ref] = p
	if err := p.Validate(); err != nil {
		return describeErr(err)
	}
	return "valid"
}

func (d *driver) parsePolicy(td *datadriven.TestData) string {
	p, err := ParsePolicy([]byte(td.Input))
	if err != nil {
		return describeErr(err)
	}
	raw, _ := json.Marshal(p.Data())
	return "policy " + formatObject(raw)
}

// allows answers lines `from -> to: action` (Policy.Allows) and
// `among (a, b, c): action` (Policy.AllowsAmong).
func (d *driver) allows(t *testing.T, td *datadriven.TestData) string {
	var ref string
	td.ScanArgs(t, "policy", &ref)
	p := d.policy(t, ref)
	var out []string
	for _, l := range inputLines(td.Input) {
		pair, act, _ := strings.Cut(l, ":")
		a, err := parseAction(strings.TrimSpace(act))
		if err != nil {
			t.Fatalf("%s: %v", td.Pos, err)
		}
		var ok bool
		if inner, found := strings.CutPrefix(pair, "among "); found {
			inner = strings.Trim(strings.TrimSpace(inner), "()")
			var apps []events.App
			for _, app := range strings.Split(inner, ",") {
				apps = append(apps, events.App(strings.TrimSpace(app)))
			}
			ok = p.AllowsAmong(apps, a)
		} else {
			from, to, _ := strings.Cut(pair, "->")
			ok = p.Allows(events.App(strings.TrimSpace(from)), events.App(strings.TrimSpace(to)), a)
		}
		verdict := "denied"
		if ok {
			verdict = "allowed"
		}
		out = append(out, l+" => "+verdict)
	}
	return strings.Join(out, "\n")
}

func (d *driver) conversation(t *testing.T, td *datadriven.TestData) string {
	s := d.scenario(t, td, convID)
	s.names.add("conv", convID)
	s.store(s.conversationEvent)
	fresh := func() state { c := NewConversation(convID); s.fold(c); return c }
	if s.when.verb == "prior" {
		return s.prior(fresh())
	}
	cmd := s.conversationCommand(s.when)
	s.checkLine(s.when)
	return s.play(fresh, cmd)
}

func (d *driver) account(t *testing.T, td *datadriven.TestData) string {
	var name string
	td.ScanArgs(t, "name", &name)
	s := d.scenario(t, td, name)
	s.store(s.accountEvent)
	fresh := func() state { a := NewAccount(events.Account(name)); s.fold(a); return a }
	if s.when.verb == "prior" {
		return s.prior(fresh())
	}
	cmd := s.accountCommand(s.when)
	s.checkLine(s.when)
	return s.play(fresh, cmd)
}

func (d *driver) policiesScenario(t *testing.T, td *datadriven.TestData) string {
	s := d.scenario(t, td, "policy")
	var published []*Policy
	s.store(func(l *line) (events.Type, any) {
		if l.verb != "published" {
			t.Fatalf("%s: unknown policy event %q", td.Pos, l.verb)
		}
		p := d.policy(t, l.str("ref", ""))
		published = append(published, p)
		return events.PolicyPublished, p.Data()
	})
	fresh := func() state { ps := &Policies{}; s.fold(ps); return ps }
	l := s.when
	switch l.verb {
	case "prior":
		return s.prior(fresh())
	case "in-force":
		at := s.now
		if l.has("at") {
			at = mustTime(t, l.str("at", ""))
		}
		s.checkLine(l)
		return describeInForce(fresh().(*Policies).InForce(at))
	case "publish":
		cmd := PublishPolicy{CommandID: s.cause(l), Policy: *d.policy(t, l.str("ref", ""))}
		s.checkLine(l)
		s.wantPV = inForceAmong(published, s.now)
		return s.play(fresh, cmd)
	case "send": // a conversation command, to check it is refused
		cmd := SendMessage{Meta: s.meta(l), Text: "hello"}
		s.checkLine(l)
		return s.play(fresh, cmd)
	}
	t.Fatalf("%s: unknown policies command %q", td.Pos, l.verb)
	return ""
}

func describeInForce(p *Policy) string {
	if p == nil {
		return "in force: none"
	}
	return fmt.Sprintf("in force: version %d (%s)", p.Version, p.Name)
}

// inForceAmong is the test's own statement of the rule InForce implements:
// the highest version whose effective_at is not after now.
func inForceAmong(ps []*Policy, now time.Time) uint64 {
	var v uint64
	for _, p := range ps {
		if !p.EffectiveAt.After(now) && p.Version > v {
			v = p.Version
		}
	}
	return v
}

func mustTime(t *testing.T, s string) time.Time {
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad time %q: %v", s, err)
	}
	return at
}

func inputLines(input string) []string {
	var out []string
	for _, l := range strings.Split(input, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// TestEverySentinelHasAScenario keeps testdata honest: each domain error
// of the package is the expected outcome of at least one scenario.
func TestEverySentinelHasAScenario(t *testing.T) {
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	for _, s := range sentinels {
		if strings.HasPrefix(s.name, "events.") {
			continue
		}
		// A sentinel that wraps another is named with it: error A+B: ...
		named := regexp.MustCompile(`\nerror ([\w.]+\+)*` + regexp.QuoteMeta(s.name) + `[+:]`)
		if !named.MatchString(all.String()) {
			t.Errorf("no scenario in testdata ends in %s", s.name)
		}
	}
}
