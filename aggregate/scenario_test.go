package aggregate

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/events"
)

// scenario is one given/when block: the prior events as stored bytes, the
// command, and what the decided event must carry.
type scenario struct {
	t       *testing.T
	drv     *driver
	pos     string
	names   *aliases
	now     time.Time
	policy  *Policy // the policy in force, passed to Decide
	subject string
	show    map[string]bool
	given   []*line
	when    *line
	stored  [][]byte

	wantPV    uint64 // policyversion the decided event must carry
	wantCause string // causationid the decided event must carry
}

// state is what the three aggregates share for the driver.
type state interface {
	Decide(Command, *Policy, time.Time) (events.Event, error)
	Evolve(events.Recorded) error
	testPosition() Stream
	testDescribe() string
}

func (c *Conversation) testPosition() Stream { return c.Stream }
func (a *Account) testPosition() Stream      { return a.Stream }
func (ps *Policies) testPosition() Stream    { return ps.Stream }

func (c *Conversation) testDescribe() string {
	return fmt.Sprintf("state started=%t participants=%s cross_app=%t closed=%t closed_by=%d expired=%d version=%d",
		c.Started, formatValue("", mustJSON(c.Participants)), c.CrossApp, c.Closed, c.ClosedBy, c.expired, c.Stream.Version)
}

func (a *Account) testDescribe() string {
	return fmt.Sprintf("state status=%q show_activity_status=%t send_read_receipts=%t erasures=%d version=%d",
		a.Status, a.ShowActivityStatus, a.SendReadReceipts, a.Erasures, a.Stream.Version)
}

func (ps *Policies) testDescribe() string {
	var vs []string
	for _, p := range ps.Versions {
		vs = append(vs, fmt.Sprint(p.Version))
	}
	return fmt.Sprintf("state versions=(%s) latest=%d version=%d", strings.Join(vs, ", "), ps.Latest(), ps.Stream.Version)
}

func (d *driver) scenario(t *testing.T, td *datadriven.TestData, subject string) *scenario {
	s := &scenario{t: t, drv: d, pos: td.Pos, names: newAliases(), now: defaultNow, subject: subject, show: map[string]bool{}}
	var ref, now string
	if td.MaybeScanArgs(t, "policy", &ref) {
		s.policy = d.policy(t, ref)
	}
	if td.MaybeScanArgs(t, "now", &now) {
		s.now = mustTime(t, now)
	}
	if arg, ok := td.Arg("show"); ok {
		for _, v := range arg.Vals {
			s.show[v] = true
		}
	}
	s.wantPV = s.policy.VersionOf()
	for _, text := range inputLines(td.Input) {
		kind, rest, _ := strings.Cut(text, " ")
		l, err := parseLine(rest)
		if err != nil {
			t.Fatalf("%s: %v", td.Pos, err)
		}
		switch {
		case kind == "given" && s.when == nil:
			s.given = append(s.given, l)
		case kind == "when" && s.when == nil:
			s.when = l
		default:
			t.Fatalf("%s: want given... lines then one when line, got %q", td.Pos, text)
		}
	}
	if s.when == nil {
		t.Fatalf("%s: no when line", td.Pos)
	}
	return s
}

func (s *scenario) checkLine(l *line) {
	if err := l.check(); err != nil {
		s.t.Fatalf("%s: %v", s.pos, err)
	}
}

func (s *scenario) seq(i int) uint64 { return uint64(101 + i) }

// store encodes the given events as the log would hold them: chained by
// streamversion and prevhash, one hour before now, with stable ids that
// print as given#N.
func (s *scenario) store(event func(*line) (events.Type, any)) {
	at, prev := s.now.Add(-time.Hour), ""
	for i, l := range s.given {
		typ, data := event(l)
		cause := s.names.id(l.str("cmd", ""))
		if cause == "" {
			cause = events.DerivedID(at, fmt.Sprintf("given cause %d", i))
		}
		e, err := events.New(typ, s.subject, at, cause, l.uint("pv", s.policy.VersionOf()), data)
		s.checkLine(l)
		if err != nil {
			s.t.Fatalf("%s: %v", s.pos, err)
		}
		e.ID = events.DerivedID(at, fmt.Sprintf("given %d", i))
		e.StreamVersion, e.PrevHash = uint64(i+1), prev
		b, err := events.Encode(e)
		if err != nil {
			s.t.Fatalf("%s: %v", s.pos, err)
		}
		s.stored = append(s.stored, b)
		prev = events.Hash(b)
		s.names.add(fmt.Sprintf("given#%d", i+1), e.ID)
	}
}

func (s *scenario) fold(st state) {
	for i, b := range s.stored {
		r, err := events.Record(s.seq(i), b)
		if err != nil {
			s.t.Fatalf("%s: given %d: %v", s.pos, i+1, err)
		}
		if err := st.Evolve(r); err != nil {
			s.t.Fatalf("%s: given %d: %v", s.pos, i+1, err)
		}
	}
}

// play decides cmd against the policy and clock of the scenario, checks the
// properties every decision has, and formats the outcome.
func (s *scenario) play(fresh func() state, cmd Command) string {
	st, twin := fresh(), fresh()
	e, err := st.Decide(cmd, s.policy, s.now)
	if !reflect.DeepEqual(st, twin) {
		s.t.Errorf("%s: Decide changed the state", s.pos)
	}
	e2, err2 := st.Decide(cmd, s.policy, s.now)
	if !reflect.DeepEqual(e, e2) || fmt.Sprint(err) != fmt.Sprint(err2) {
		s.t.Errorf("%s: Decide is not deterministic: %v/%v then %v/%v", s.pos, e, err, e2, err2)
	}
	var out []string
	if err != nil {
		out = append(out, describeErr(err))
	} else {
		s.checkEvent(e)
		out = append(out, formatEvent(e))
		if s.show["chain"] {
			out = append(out, s.formatChain(e))
		}
		s.evolveDecided(st, twin, e)
	}
	if s.show["state"] {
		out = append(out, st.testDescribe())
	}
	return s.names.replace(strings.Join(out, "\n"))
}

func (s *scenario) checkEvent(e events.Event) {
	wantPrev := ""
	if n := len(s.stored); n > 0 {
		wantPrev = events.Hash(s.stored[n-1])
	}
	checks := []struct {
		ok   bool
		what string
	}{
		{e.SpecVersion == events.SpecVersion && e.Source == events.Source && e.DataContentType == events.DataContentType,
			"envelope constants"},
		{e.StreamVersion == uint64(len(s.stored))+1, fmt.Sprintf("streamversion %d after %d events", e.StreamVersion, len(s.stored))},
		{e.PrevHash == wantPrev, fmt.Sprintf("prevhash %q, want %q", e.PrevHash, wantPrev)},
		{e.PolicyVersion == s.wantPV, fmt.Sprintf("policyversion %d, want %d", e.PolicyVersion, s.wantPV)},
		{e.Time.Equal(s.now) && e.Time.Location() == time.UTC, fmt.Sprintf("time %v, want %v in UTC", e.Time, s.now)},
		{e.CausationID == s.wantCause, fmt.Sprintf("causationid %q, want %q", e.CausationID, s.wantCause)},
		{e.Subject == s.subject, fmt.Sprintf("subject %q, want %q", e.Subject, s.subject)},
		{isV7At(e.ID, s.now), fmt.Sprintf("id %q is not a UUIDv7 of %v", e.ID, s.now)},
	}
	for _, c := range checks {
		if !c.ok {
			s.t.Errorf("%s: %s", s.pos, c.what)
		}
	}
	b, err := events.Encode(e)
	if err != nil {
		s.t.Fatalf("%s: encode: %v", s.pos, err)
	}
	stored := e
	stored.Payload = nil // never encoded, so never decoded
	if back, err := events.Decode(b); err != nil || !reflect.DeepEqual(back, stored) {
		s.t.Errorf("%s: decided event does not round-trip: %v", s.pos, err)
	}
}

func isV7At(id string, now time.Time) bool {
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 {
		return false
	}
	ms := binary.BigEndian.Uint64(append([]byte{0, 0}, u[:6]...))
	return int64(ms) == now.UnixMilli()
}

// evolveDecided appends the decided event as the log would and checks that
// the state's position and Prior follow it. It folds the event into twin, a
// copy of st, as the service does, with the typed payload Decide made, and
// checks that both end in the same state: the command path's shortcut must
// not differ from a reload from the log.
func (s *scenario) evolveDecided(st, twin state, e events.Event) {
	b, _ := events.Encode(e)
	r, err := events.Record(s.seq(len(s.stored)), b)
	if err != nil {
		s.t.Fatalf("%s: record decided event: %v", s.pos, err)
	}
	if r.Event.Payload != nil || e.Payload == nil {
		s.t.Fatalf("%s: payload decoded %T, decided %T; want none and one", s.pos, r.Event.Payload, e.Payload)
	}
	if err := st.Evolve(r); err != nil {
		s.t.Fatalf("%s: evolve decided event: %v", s.pos, err)
	}
	typed := r
	typed.Event = e
	if err := twin.Evolve(typed); err != nil {
		s.t.Fatalf("%s: evolve decided event with its payload: %v", s.pos, err)
	}
	if !reflect.DeepEqual(st, twin) {
		s.t.Errorf("%s: evolving the decided event with its payload gives another state than from its bytes:\n%#v\n%#v", s.pos, twin, st)
	}
	pos := st.testPosition()
	if pos.Version != e.StreamVersion || pos.LastSeq != r.Seq || pos.LastHash != r.Hash {
		s.t.Errorf("%s: after evolve, stream is %+v", s.pos, pos)
	}
	want := Prior{Seq: r.Seq}
	if got, ok := pos.Prior(priorKey(e)); !ok || got != want {
		s.t.Errorf("%s: Prior(%s) = %+v, %t; want %+v", s.pos, e.CausationID, got, ok, want)
	}
}

// priorKey is the key a decided event's command is remembered by: its id
// scoped by the acting account's app (none for a closing or a policy).
func priorKey(e events.Event) string {
	var app events.App
	if p, ok := e.Payload.(events.Payload); ok && e.Type != events.ConversationClosed && e.Type != events.PolicyPublished &&
		e.Type != events.ContentExpired {
		app = events.Account(p.Actor()).App()
	}
	return events.CommandKey(app, e.CausationID)
}

func (s *scenario) formatChain(e events.Event) string {
	prev := "none"
	for i, b := range s.stored {
		if e.PrevHash != "" && events.Hash(b) == e.PrevHash {
			prev = fmt.Sprintf("hash(given#%d)", i+1)
		}
	}
	return fmt.Sprintf("chain streamversion=%d prevhash=%s policyversion=%d time=%s causationid=%s subject=%s",
		e.StreamVersion, prev, e.PolicyVersion, e.Time.Format(time.RFC3339Nano), e.CausationID, e.Subject)
}

// prior answers `when prior cmd=K`: what Stream.Prior remembers of K.
func (s *scenario) prior(st state) string {
	id := s.names.id(s.when.str("cmd", "cmd"))
	app := events.App(s.when.str("app", ""))
	s.checkLine(s.when)
	pos := st.testPosition()
	p, ok := pos.Prior(events.CommandKey(app, id))
	if !ok {
		return "no prior"
	}
	return fmt.Sprintf("prior seq=%d", p.Seq)
}
