package aggregate

import (
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Stream is the position of one aggregate in the log: how many events it has
// (Version), the stream sequence of the last one (LastSeq, the expected
// sequence of the next append) and that event's chain hash (LastHash, the
// next event's prevhash). It also remembers which commands produced its
// events, so that a retried command is answered, not decided again.
//
// It remembers the last PriorLimit commands only, so that a long-lived
// conversation's state does not grow with every message; an older retry is
// still answered once, by the stream's Nats-Msg-Id window.
type Stream struct {
	Version  uint64
	LastSeq  uint64
	LastHash string
	prior    map[string]Prior
	order    []string // command ids in prior, oldest first (a ring)
	next0    int      // index of the oldest entry in order once full
}

// PriorLimit bounds the command ids an aggregate remembers.
const PriorLimit = 1024

// Prior is what a command already did: enough to repeat its first reply.
type Prior struct {
	EventID       string
	Seq           uint64
	Version       uint64
	PolicyVersion uint64
}

// Prior reports whether the command of key (events.CommandKey: its app and
// its id) already produced an event here.
func (s *Stream) Prior(key string) (Prior, bool) {
	p, ok := s.prior[key]
	return p, ok
}

// next builds the aggregate's next event: envelope, chain fields, the
// principal and trace context of the command cmd, and a deterministic id derived from the
// command and subject (appendSeed).
func (s *Stream) next(t events.Type, subject string, now time.Time, cmd Command, policyVersion uint64, data any) (events.Event, error) {
	m, seed := appendSeed(make([]byte, 0, seedBuffer), cmd, subject)
	e, err := events.New(t, subject, now, m.CommandID, policyVersion, data)
	if err != nil {
		return events.Event{}, err
	}
	e.Principal = m.Principal
	e.SetTrace(m.Trace)
	e.ID = events.DerivedIDOf(now, seed)
	e.StreamVersion = s.Version + 1
	e.PrevHash = s.LastHash
	return e, nil
}

// advance moves s past r, remembering its command under the key of app,
// the app whose account acted (none for a closing or a policy).
func (s *Stream) advance(r events.Recorded, app events.App) {
	s.Version++
	s.LastSeq = r.Seq
	s.LastHash = r.Hash
	if r.Event.CausationID == "" {
		return
	}
	s.remember(events.CommandKey(app, r.Event.CausationID), Prior{
		EventID: r.Event.ID, Seq: r.Seq, Version: s.Version, PolicyVersion: r.Event.PolicyVersion,
	})
}

// remember records a command's result, forgetting the oldest beyond
// PriorLimit.
func (s *Stream) remember(id string, p Prior) {
	if s.prior == nil {
		s.prior = make(map[string]Prior)
	}
	if _, seen := s.prior[id]; seen {
		s.prior[id] = p
		return
	}
	if len(s.order) < PriorLimit {
		s.order = append(s.order, id)
	} else {
		delete(s.prior, s.order[s.next0])
		s.order[s.next0] = id
		s.next0 = (s.next0 + 1) % PriorLimit
	}
	s.prior[id] = p
}

// Skip moves the position past a stored message of the subject that is not
// folded into the state (poison: bytes that are not an event of this
// aggregate, or an event off its chain). The message still counts: the next
// append must expect its sequence, chain to its hash and number itself
// after it, as audit verify counts the subject's messages.
func (s *Stream) Skip(seq uint64, hash string) {
	s.Version++
	s.LastSeq = seq
	s.LastHash = hash
}
