package aggregate

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
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
	// prior is a ring of the last PriorLimit commands, oldest at next0
	// once full: 16 bytes each (a hash of the command's key and its
	// event's sequence), found by a scan, so that a conversation's memory
	// stays small whatever its history (docs/architecture.md, "Snapshots
	// and message records").
	prior []priorEntry
	next0 int
}

// PriorLimit bounds the command ids an aggregate remembers.
const PriorLimit = 1024

// Prior is what a command already did: the stream sequence of its event,
// where its first reply is read back.
type Prior struct {
	Seq uint64
}

// priorEntry is one remembered command.
type priorEntry struct {
	key uint64 // keyHash of its key
	seq uint64
}

// keyHash is the first 8 bytes of the SHA-256 of a command key. Two keys
// of one aggregate's last PriorLimit commands sharing it is a chance of
// about 2^-44; the service's duplicate reply checks the event it reads
// back was decided from the same command anyway (SameCommand).
func keyHash(key string) uint64 {
	sum := sha256.Sum256([]byte(key))
	return binary.BigEndian.Uint64(sum[:8])
}

// Prior reports whether the command of key (events.CommandKey: its app and
// its id) already produced an event here.
func (s *Stream) Prior(key string) (Prior, bool) {
	h := keyHash(key)
	for i := len(s.prior) - 1; i >= 0; i-- { // newest first: a retry is usually recent
		e := s.prior[(s.next0+i)%len(s.prior)]
		if e.key == h {
			return Prior{Seq: e.seq}, true
		}
	}
	return Prior{}, false
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
	s.remember(priorEntry{key: keyHash(events.CommandKey(app, r.Event.CausationID)), seq: r.Seq})
}

// remember records a command's event, forgetting the oldest beyond
// PriorLimit. A key seen again (a command that made a second event)
// keeps its first place and takes the newer sequence.
func (s *Stream) remember(p priorEntry) {
	for i := range s.prior {
		if s.prior[i].key == p.key {
			s.prior[i].seq = p.seq
			return
		}
	}
	if len(s.prior) < PriorLimit {
		if len(s.prior) == cap(s.prior) { // grow as append would, but never past PriorLimit
			s.prior = slices.Grow(s.prior, min(max(2*len(s.prior), 8), PriorLimit)-len(s.prior))
		}
		s.prior = append(s.prior, p)
		return
	}
	s.prior[s.next0] = p
	s.next0 = (s.next0 + 1) % PriorLimit
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
