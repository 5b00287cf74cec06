package audit

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
)

// StreamReport is what Verify found on one stream of a partitioned log.
type StreamReport struct {
	// Stream is the stream's name.
	Stream string `json:"stream"`
	// LastSeq, ViewsCheckpoint, Subjects, Events, ViewsChecked and
	// BreaksTotal are Report's, for this stream and its own sequences.
	LastSeq         uint64 `json:"last_seq"`
	ViewsCheckpoint uint64 `json:"views_checkpoint"`
	Subjects        int    `json:"subjects"`
	Events          uint64 `json:"events"`
	ViewsChecked    uint64 `json:"views_checked"`
	BreaksTotal     uint64 `json:"breaks_total"`
	// SignaturesFrom is the stream sequence from which its events had to
	// be signed (SignatureReport.RequiredFrom, for this stream).
	SignaturesFrom uint64 `json:"signatures_required_from"`
}

// StreamViews is what Verify reads of the views of a partitioned log: a
// checkpoint per stream, in stream order. *projector.Store implements it.
type StreamViews interface {
	Views
	Checkpoints() []uint64
}

// verifyStreams verifies each stream of a partitioned log as verify does
// the single stream, against the views' checkpoint of that stream, and
// adds up the reports: a break names its stream, and its Seq is that
// stream's.
func verifyStreams(ctx context.Context, s Streams, o VerifyOptions) (Report, error) {
	if o.SignedFrom != 0 {
		return Report{}, fmt.Errorf("verify: signatures required from seq %d: the log has %d streams (%v), each numbered on its own",
			o.SignedFrom, len(s.StreamNames()), s.StreamNames())
	}
	logs, names, err := StreamsOf(ctx, s.(Log))
	if err != nil {
		return Report{}, fmt.Errorf("verify: %w", err)
	}
	cps, err := streamCheckpoints(o.Views, names)
	if err != nil {
		return Report{}, err
	}
	total := Report{Breaks: []Break{}, Signatures: newSignatureReport(o), WithViews: o.Views != nil,
		Streams: make([]StreamReport, len(logs))}
	for i, l := range logs {
		one := o
		if o.Views != nil {
			one.Views = streamViews{views: o.Views, streams: s, index: i, checkpoint: cps[i]}
		}
		r, err := verify(ctx, l, one)
		if err != nil {
			return Report{}, fmt.Errorf("stream %s: %w", names[i], err)
		}
		total.add(i, names[i], r)
	}
	slices.SortStableFunc(total.Breaks, func(a, b Break) int {
		return cmp.Or(cmp.Compare(slices.Index(names, a.Stream), slices.Index(names, b.Stream)), cmp.Compare(a.Seq, b.Seq))
	})
	return total, nil
}

// streamCheckpoints returns the views' checkpoint of each stream; nil
// without views.
func streamCheckpoints(views Views, names []string) ([]uint64, error) {
	if views == nil {
		return nil, nil
	}
	sv, ok := views.(StreamViews)
	if !ok {
		return nil, fmt.Errorf("verify: the views keep one checkpoint, the log has %d streams (%v)", len(names), names)
	}
	cps := sv.Checkpoints()
	if len(cps) != len(names) {
		return nil, fmt.Errorf("verify: the views follow %d stream(s), the log has %d (%v): they were not built from this log",
			len(cps), len(names), names)
	}
	return cps, nil
}

// add adds the report of stream i to r.
func (r *Report) add(i int, stream string, one Report) {
	r.Streams[i] = StreamReport{Stream: stream, LastSeq: one.LastSeq, ViewsCheckpoint: one.ViewsCheckpoint,
		Subjects: one.Subjects, Events: one.Events, ViewsChecked: one.ViewsChecked, BreaksTotal: one.BreaksTotal,
		SignaturesFrom: one.Signatures.RequiredFrom}
	r.Subjects += one.Subjects
	r.Events += one.Events
	r.LastSeq += one.LastSeq
	r.ViewsCheckpoint += one.ViewsCheckpoint
	r.ViewsChecked += one.ViewsChecked
	r.BreaksTotal += one.BreaksTotal
	for _, b := range one.Breaks {
		if len(r.Breaks) < MaxBreaks {
			b.Stream = stream
			r.Breaks = append(r.Breaks, b)
		}
	}
	sig, all := one.Signatures, &r.Signatures
	all.Verified += sig.Verified
	all.Unsigned += sig.Unsigned
	maps.Copy(all.ByKey, addCounts(all.ByKey, sig.ByKey))
	if sig.RequiredFrom != 0 && (all.RequiredFrom == 0 || sig.RequiredFrom < all.RequiredFrom) {
		all.RequiredFrom = sig.RequiredFrom
	}
}

// addCounts returns a's counts plus b's.
func addCounts(a, b map[string]uint64) map[string]uint64 {
	out := maps.Clone(a)
	for k, n := range b {
		out[k] += n
	}
	return out
}

// streamViews is the views of one stream of a partitioned log: its
// checkpoint, and the hist/ entries of its subjects.
type streamViews struct {
	views      Views
	streams    Streams
	index      int
	checkpoint uint64
}

func (v streamViews) Checkpoint() uint64 { return v.checkpoint }

func (v streamViews) HistoryEvent(subject string, seq uint64) ([]byte, bool, error) {
	return v.views.HistoryEvent(subject, seq)
}

func (v streamViews) History(fn func(subject string, seq uint64, data []byte) error) error {
	return v.views.History(func(subject string, seq uint64, data []byte) error {
		if v.streams.StreamIndexOf(subject) != v.index {
			return nil
		}
		return fn(subject, seq, data)
	})
}
