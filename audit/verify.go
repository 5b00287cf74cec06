package audit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Kinds of Break.
const (
	// BreakUndecodable: the stored body is not a crosstalk CloudEvent.
	BreakUndecodable = "undecodable"
	// BreakPrevHash: the event's prevhash is not the sha256 hex of the
	// previous stored body on its subject ("" for a subject's first event).
	BreakPrevHash = "prevhash"
	// BreakStreamVersion: the event's streamversion is not one more than the
	// previous event's on its subject (1 for a subject's first event).
	BreakStreamVersion = "streamversion"
	// BreakGap: stream sequences are missing: messages were removed.
	BreakGap = "gap"
	// BreakMissingInViews: a message at or below the views' checkpoint has
	// no hist/ entry in Pebble.
	BreakMissingInViews = "missing_in_views"
	// BreakDiffersInViews: the hist/ entry of a message holds other bytes.
	BreakDiffersInViews = "differs_in_views"
	// BreakExtraInViews: Pebble holds a hist/ entry for a message the
	// stream does not have (no such sequence, or another subject).
	BreakExtraInViews = "extra_in_views"
	// BreakViewsAhead: the views' checkpoint is past the stream's last
	// sequence, so they were built from a log that is not this one.
	BreakViewsAhead = "views_ahead"
)

// MaxBreaks is how many breaks a Report lists; BreaksTotal counts them all.
// A store rebuilt from another log would otherwise list every event.
const MaxBreaks = 1000

// Break is one place where the history is not what it must be.
type Break struct {
	Seq     uint64 `json:"seq"`
	Subject string `json:"subject"`
	// Stream names the stream of a partitioned log the break is on (Seq
	// is that stream's), and is empty on the single stream.
	Stream string `json:"stream,omitempty"`
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// Report is what Verify found.
type Report struct {
	// Subjects is the number of distinct stream subjects walked.
	Subjects int `json:"subjects"`
	// Events is the number of stream messages walked.
	Events uint64 `json:"events"`
	// LastSeq is the stream's last sequence when the walk began; Verify
	// covers seq 1 to LastSeq.
	LastSeq uint64 `json:"last_seq"`
	// WithViews says whether the Pebble views were checked at all.
	WithViews bool `json:"with_views"`
	// ViewsCheckpoint is the views' checkpoint: messages up to it were
	// compared with Pebble's hist/ entries.
	ViewsCheckpoint uint64 `json:"views_checkpoint"`
	// ViewsChecked is the number of stream messages compared with their
	// hist/ entry.
	ViewsChecked uint64 `json:"views_checked"`
	// Breaks lists the first MaxBreaks breaks found, sorted by stream
	// sequence.
	Breaks []Break `json:"breaks"`
	// BreaksTotal counts every break, listed or not.
	BreaksTotal uint64 `json:"breaks_total"`
	// Findings are problems found beside the history's own: a stream
	// whose settings could lose history (an edited limit). The history
	// that is there is verified all the same.
	Findings []string `json:"findings,omitempty"`
	// Signatures is what was found of the events' signatures (VerifyWith).
	Signatures SignatureReport `json:"signatures"`
	// Streams is what was found on each stream of a partitioned log, in
	// stream order; it is empty for the single stream. On a partitioned
	// log LastSeq, ViewsCheckpoint and the counts above add up the
	// streams', and Breaks are sorted by stream, then sequence.
	Streams []StreamReport `json:"streams,omitempty"`
}

// OK reports whether the history verified without a single break, and
// without a finding about its stream.
func (r Report) OK() bool { return r.BreaksTotal == 0 && len(r.Findings) == 0 }

// Verify walks the stream from seq 1 to its last sequence and checks, for
// every message:
//
//   - that its body decodes as a crosstalk CloudEvent (BreakUndecodable);
//   - that its prevhash is the sha256 hex of the previous stored body on the
//     same stream subject, or "" for the subject's first message
//     (BreakPrevHash);
//   - that its streamversion is the previous one on the subject plus one,
//     starting at 1 (BreakStreamVersion);
//   - that no stream sequence is missing (BreakGap).
//
// A subject's chain continues from the stored body where it broke, and a
// version is checked against the message's position on its subject, so one
// tampered event is one break, not one per later event.
//
// With views (nil checks JetStream only), every message at or below the
// views' checkpoint must have a hist/ entry byte-identical to it
// (BreakMissingInViews, BreakDiffersInViews), and Pebble must hold no hist/
// entry up to its checkpoint that the stream lacks (BreakExtraInViews). An
// undecodable message is reported once, as undecodable: the projector
// records such messages under poison/, not hist/, so its absence from hist/
// is no further break.
//
// Verify returns an error only when it could not read the log or the views;
// what it found is in the Report. It checks no signatures: VerifyWith does.
func Verify(ctx context.Context, log Log, views Views) (Report, error) {
	return verify(ctx, log, VerifyOptions{Views: views})
}

func verify(ctx context.Context, log Log, o VerifyOptions) (Report, error) {
	if s, ok := partitions(log); ok {
		return verifyStreams(ctx, s, o)
	}
	views := o.Views
	last, err := log.LastSeq(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("verify: last sequence: %w", err)
	}
	v := &verifier{chains: map[string]*chain{}, next: 1,
		report: Report{LastSeq: last, Breaks: []Break{}, Signatures: newSignatureReport(o)}}
	if o.Keys != nil {
		v.sigs = events.NewVerifier(o.Keys)
	}
	if views != nil {
		v.views = views
		v.cp = views.Checkpoint()
		v.report.WithViews, v.report.ViewsCheckpoint = true, v.cp
		v.matched = newSeqSet(min(v.cp, last))
	}
	if err := Walk(ctx, log, last, v.batch); err != nil {
		return Report{}, fmt.Errorf("verify: %w", err)
	}
	if views != nil {
		if err := v.extras(ctx, log); err != nil {
			return Report{}, fmt.Errorf("verify: %w", err)
		}
	}
	v.report.Subjects = len(v.chains)
	slices.SortStableFunc(v.report.Breaks, func(a, b Break) int { return cmp.Compare(a.Seq, b.Seq) })
	return v.report, nil
}

// chain is where a subject's hash chain stands: the hash of its last stored
// body, how many messages the subject has had, and the last one's sequence.
type chain struct {
	hash    [sha256.Size]byte
	version uint64
	seq     uint64
}

// verifier is one Verify in progress.
type verifier struct {
	chains  map[string]*chain
	views   Views
	sigs    *events.Verifier // nil: signatures are not checked
	cp      uint64
	matched seqSet           // sequences whose hist/ entry was found under their subject
	next    uint64           // the sequence the walk expects next
	decoded []decodedMessage // scratch space of batch
	report  Report
}

func (v *verifier) add(b Break) {
	v.report.BreaksTotal++
	if len(v.report.Breaks) < MaxBreaks {
		v.report.Breaks = append(v.report.Breaks, b)
	}
}

// batch checks a run of stream messages. Decoding, hashing and looking up
// the hist/ entries are most of the work and independent of each other, so
// they run in parallel; the chains are then followed in stream order.
func (v *verifier) batch(msgs []events.Message) error {
	v.decoded = slices.Grow(v.decoded[:0], len(msgs))[:len(msgs)]
	workers := min(runtime.GOMAXPROCS(0), (len(msgs)+minPerWorker-1)/minPerWorker)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(msgs); i += workers {
				v.prepare(msgs[i], &v.decoded[i])
			}
		})
	}
	wg.Wait()
	for i, m := range msgs {
		if err := v.message(m, &v.decoded[i]); err != nil {
			return err
		}
	}
	return nil
}

// prepare decodes and hashes m, and reads its hist/ entry when the views
// should have one.
func (v *verifier) prepare(m events.Message, d *decodedMessage) {
	d.event, d.err = events.Decode(m.Data)
	d.hash = sha256.Sum256(m.Data)
	if v.sigs != nil {
		d.sigKey, d.sigErr = v.sigs.Verify(m.Subject, m.Data, m.Signature)
	}
	d.hist, d.inViews, d.viewsErr = nil, false, nil
	if v.views != nil && m.Seq <= v.cp {
		d.hist, d.inViews, d.viewsErr = v.views.HistoryEvent(m.Subject, m.Seq)
	}
}

// minPerWorker is the fewest messages worth a decoding goroutine.
const minPerWorker = 64

// decodedMessage is a message's decoded event (or why it did not decode),
// the hash of its body, the key its signature verified under (or why not),
// and its hist/ entry in the views.
type decodedMessage struct {
	event    events.Event
	err      error
	hash     [sha256.Size]byte
	sigKey   string
	sigErr   error
	hist     []byte
	inViews  bool
	viewsErr error
}

// message checks one stream message.
func (v *verifier) message(m events.Message, d *decodedMessage) error {
	v.report.Events++
	if m.Seq != v.next {
		v.add(Break{Seq: v.next, Kind: BreakGap,
			Detail: fmt.Sprintf("stream sequences %d..%d are missing: messages were removed from the stream", v.next, m.Seq-1)})
	}
	v.next = m.Seq + 1
	if d.err != nil {
		v.add(Break{Seq: m.Seq, Subject: m.Subject, Kind: BreakUndecodable, Detail: d.err.Error()})
	}
	v.link(m, d)
	v.checkSignature(m, d)
	if v.views == nil || m.Seq > v.cp {
		return nil
	}
	return v.compare(m, d)
}

// link checks the message against its subject's chain and moves the chain
// on to it. The chain continues from the stored body, whatever the message
// claims, because that is what the next writer chains to; its version is
// the message's position on the subject, which is what streamversion counts.
func (v *verifier) link(m events.Message, d *decodedMessage) {
	e, decoded := d.event, d.err == nil
	c := v.chains[m.Subject]
	wantPrev := ""
	if c == nil {
		c = &chain{}
		v.chains[m.Subject] = c
	} else {
		wantPrev = hex.EncodeToString(c.hash[:])
	}
	c.version++
	if decoded && e.PrevHash != wantPrev {
		v.add(Break{Seq: m.Seq, Subject: m.Subject, Kind: BreakPrevHash, Detail: prevHashDetail(e.PrevHash, wantPrev, c.seq)})
	}
	if decoded && e.StreamVersion != c.version {
		v.add(Break{Seq: m.Seq, Subject: m.Subject, Kind: BreakStreamVersion,
			Detail: fmt.Sprintf("streamversion %d, want %d (the message is number %d on its subject)", e.StreamVersion, c.version, c.version)})
	}
	c.hash, c.seq = d.hash, m.Seq
}

func prevHashDetail(got, want string, prevSeq uint64) string {
	if want == "" {
		return fmt.Sprintf("prevhash %q on the subject's first event, want \"\"", got)
	}
	return fmt.Sprintf("prevhash %q, want %s (sha256 of seq %d, the previous message on this subject)", got, want, prevSeq)
}

// compare checks a message against its hist/ entry in the views. An
// undecodable message may lack one: the projector keeps it under poison/.
func (v *verifier) compare(m events.Message, d *decodedMessage) error {
	data, found := d.hist, d.inViews
	if d.viewsErr != nil {
		return fmt.Errorf("views: hist/ entry of seq %d: %w", m.Seq, d.viewsErr)
	}
	v.report.ViewsChecked++
	if !found && d.err != nil {
		return nil
	}
	if !found {
		v.add(Break{Seq: m.Seq, Subject: m.Subject, Kind: BreakMissingInViews,
			Detail: "no entry " + histEntry(m.Subject, m.Seq) + " at or below the views' checkpoint " +
				"(a message the projector could not apply is under poison/)"})
		return nil
	}
	v.matched.add(m.Seq)
	if !bytes.Equal(data, m.Data) {
		v.add(Break{Seq: m.Seq, Subject: m.Subject, Kind: BreakDiffersInViews,
			Detail: fmt.Sprintf("%s holds %d bytes with sha256 %s; the stream holds %d bytes with sha256 %s",
				histEntry(m.Subject, m.Seq), len(data), events.Hash(data), len(m.Data), events.Hash(m.Data))})
	}
	return nil
}

// histEntry names the views' entry of the message at seq on subject, as
// the projector documents its keys, so that a break says which key to
// look at.
func histEntry(subject string, seq uint64) string { return fmt.Sprintf("hist/%s/%d", subject, seq) }

// extras reports hist/ entries up to the views' checkpoint that the stream
// does not have. Every stream message found in the views set its bit in
// matched, under its own subject; so an entry whose sequence has no bit, or
// lies past the stream, is extra. An extra entry at a matched sequence
// shares the sequence with the genuine one, so such sequences are resolved
// against the log one by one; they exist only in a tampered store.
func (v *verifier) extras(ctx context.Context, log Log) error {
	if v.cp > v.report.LastSeq {
		v.add(Break{Seq: v.cp, Kind: BreakViewsAhead, Detail: fmt.Sprintf(
			"the views' checkpoint is seq %d but the stream ends at seq %d: the views were not built from this stream",
			v.cp, v.report.LastSeq)})
	}
	seen := newSeqSet(min(v.cp, v.report.LastSeq))
	shared := map[uint64]bool{}
	var entries uint64
	err := v.views.History(func(subject string, seq uint64, _ []byte) error {
		if seq > v.cp {
			return nil
		}
		entries++
		if !v.matched.has(seq) {
			v.add(extraBreak(seq, subject))
		} else if seen.has(seq) {
			shared[seq] = true
		}
		seen.add(seq)
		return nil
	})
	if err != nil {
		return fmt.Errorf("views: scan hist/: %w", err)
	}
	if len(shared) == 0 {
		return nil
	}
	return v.resolveShared(ctx, log, shared)
}

func extraBreak(seq uint64, subject string) Break {
	return Break{Seq: seq, Subject: subject, Kind: BreakExtraInViews,
		Detail: "hist/ holds an event at this sequence and subject that the stream does not have"}
}

// resolveShared reports, for each sequence that has several hist/ entries,
// those whose subject is not the stream message's.
func (v *verifier) resolveShared(ctx context.Context, log Log, shared map[uint64]bool) error {
	real := make(map[uint64]string, len(shared))
	for seq := range shared {
		m, err := log.Get(ctx, seq)
		if err != nil {
			return fmt.Errorf("get seq %d: %w", seq, err)
		}
		real[seq] = m.Subject
	}
	return v.views.History(func(subject string, seq uint64, _ []byte) error {
		if want, ok := real[seq]; ok && seq <= v.cp && subject != want {
			v.add(extraBreak(seq, subject))
		}
		return nil
	})
}

// seqSet is a set of stream sequences 1..n, one bit each.
type seqSet []uint64

func newSeqSet(n uint64) seqSet { return make(seqSet, n/64+1) }

func (s seqSet) add(seq uint64) {
	if i := seq / 64; i < uint64(len(s)) {
		s[i] |= 1 << (seq % 64)
	}
}

func (s seqSet) has(seq uint64) bool {
	i := seq / 64
	return i < uint64(len(s)) && s[i]&(1<<(seq%64)) != 0
}
