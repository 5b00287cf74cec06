package eventlog

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/events"
)

// A partitioned log (Options.Partitions > 1) keeps conversation and account
// subjects in the streams CROSSTALK_P0 … CROSSTALK_P{N-1} and the policy
// subject in CROSSTALK_POLICY. Partition k's stream captures
// crosstalk.events.p<k>.> and transforms each subject back to the logical
// one (crosstalk.events.>) before storing it, so that the stored subject,
// the subject a signature covers, OCC's expected last subject sequence and
// every subject read are the logical subject, as on the single stream;
// only a publish names the partition.
const (
	// PolicyStreamName is the stream of the policy subject in a
	// partitioned log.
	PolicyStreamName = events.StreamName + "_POLICY"
	// MetadataPartitions is the stream metadata key holding N, the number
	// of partition streams, on every stream of a partitioned log.
	MetadataPartitions = "crosstalk.partitions"
	// MetadataPartition is the stream metadata key holding the partition
	// a stream holds: its index k, or "policy".
	MetadataPartition = "crosstalk.partition"
)

// ErrPartitionsMismatch reports an Open asking for a number of partitions
// that differs from the existing streams': it is fixed when they are created.
var ErrPartitionsMismatch = errors.New("eventlog: the number of partitions differs from the existing log's")

// ErrPartitioned reports a request for a whole-log position (a stream
// sequence, the last sequence, a read of every message) on a partitioned
// log, whose positions are per stream: ask each of Log.Streams.
var ErrPartitioned = errors.New("eventlog: the log is partitioned; positions are per stream (Log.Streams)")

// PartitionStreamName is the name of partition k's stream.
func PartitionStreamName(k int) string { return events.StreamName + "_P" + strconv.Itoa(k) }

// PartitionOf returns the partition, in [0, n), of a conversation or
// account subject: the FNV-1a 32-bit hash of the logical subject modulo n.
// It must never change: the streams hold what it decided.
func PartitionOf(subject string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(subject))
	return int(h.Sum32() % uint32(n))
}

// streamSpec is one stream of the log's layout.
type streamSpec struct {
	name string
	// filter is the subject filter the stream captures.
	filter string
	// publish is the prefix that replaces subjectPrefix in a published
	// subject; "" publishes the logical subject.
	publish string
	// partitions is N; 0 for the single stream CROSSTALK.
	partitions int
	// partition is k, or policyPartition.
	partition int
}

const policyPartition = -1

// singleSpec is the single stream CROSSTALK.
var singleSpec = streamSpec{name: events.StreamName, filter: events.StreamSubjects}

// layout returns the streams of a log of n partitions, in their fixed
// order: P0 … P{n-1}, then POLICY; for n <= 1 the single stream.
func layout(n int) []streamSpec {
	if n <= 1 {
		return []streamSpec{singleSpec}
	}
	specs := make([]streamSpec, 0, n+1)
	for k := range n {
		p := subjectPrefix + "p" + strconv.Itoa(k) + "."
		specs = append(specs, streamSpec{name: PartitionStreamName(k), filter: p + ">", publish: p, partitions: n, partition: k})
	}
	return append(specs, streamSpec{name: PolicyStreamName, filter: events.PolicySubject, partitions: n, partition: policyPartition})
}

// physical is the subject an append to the logical subject is published on.
func (s streamSpec) physical(subject string) string {
	if s.publish == "" {
		return subject
	}
	return s.publish + strings.TrimPrefix(subject, subjectPrefix)
}

// metadata is what the stream records of the layout.
func (s streamSpec) metadata() map[string]string {
	if s.partitions == 0 {
		return nil
	}
	k := "policy"
	if s.partition != policyPartition {
		k = strconv.Itoa(s.partition)
	}
	return map[string]string{MetadataPartitions: strconv.Itoa(s.partitions), MetadataPartition: k}
}

// configure sets cfg's name, subjects, transform and metadata for s.
func (s streamSpec) configure(cfg *jetstream.StreamConfig) {
	cfg.Name, cfg.Subjects, cfg.Metadata = s.name, []string{s.filter}, s.metadata()
	if s.publish != "" {
		cfg.SubjectTransform = &jetstream.SubjectTransformConfig{Source: s.filter, Destination: events.StreamSubjects}
		cfg.Description = fmt.Sprintf("crosstalk events, partition %d of %d; history cannot be deleted or purged", s.partition, s.partitions)
	} else if s.partitions > 0 {
		cfg.Description = "crosstalk policy events of a partitioned log; history cannot be deleted or purged"
	}
}

// laidOut checks that cfg is the stream s describes: its subjects, its
// transform (but on a mirror, which stores the subjects its origin stored)
// and its recorded layout.
func (s streamSpec) laidOut(cfg jetstream.StreamConfig) []string {
	var problems []string
	if s.publish != "" && !mirrorsTheLog(cfg, s) && (cfg.SubjectTransform == nil || cfg.SubjectTransform.Source != s.filter ||
		cfg.SubjectTransform.Destination != events.StreamSubjects) {
		problems = append(problems, fmt.Sprintf("its subject transform is not %s to %s, so stored subjects would name the partition; "+
			"recreate it (nats stream edit %s --transform-source %s --transform-destination %s)",
			s.filter, events.StreamSubjects, s.name, s.filter, events.StreamSubjects))
	}
	for key, want := range s.metadata() {
		if got := cfg.Metadata[key]; got != want {
			problems = append(problems, fmt.Sprintf("its metadata %s is %q, want %q", key, got, want))
		}
	}
	return problems
}

// existingPartitions returns the number of partitions of the log the
// server holds: 1 for the stream CROSSTALK, N recorded by CROSSTALK_P0,
// 0 when there is neither.
func existingPartitions(ctx context.Context, js jetstream.JetStream) (int, error) {
	_, err := js.Stream(ctx, events.StreamName)
	if err == nil {
		return 1, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, fmt.Errorf("look up stream %s: %w", events.StreamName, err)
	}
	p0, err := js.Stream(ctx, PartitionStreamName(0))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("look up stream %s: %w", PartitionStreamName(0), err)
	}
	n, err := strconv.Atoi(p0.CachedInfo().Config.Metadata[MetadataPartitions])
	if err != nil || n < 2 {
		return 0, fmt.Errorf("%w: stream %s: metadata %s is %q, want the number of partitions",
			ErrStreamMisconfigured, PartitionStreamName(0), MetadataPartitions, p0.CachedInfo().Config.Metadata[MetadataPartitions])
	}
	return n, nil
}

// partitionsFor decides the layout Open uses: asked (0: whatever exists,
// else 1) against existing (0: nothing exists).
func partitionsFor(asked, existing int) (int, error) {
	switch {
	case existing == 0:
		return max(asked, 1), nil
	case asked == 0 || asked == existing:
		return existing, nil
	}
	return 0, fmt.Errorf("%w: the log has %d partition(s) (%s), %d were asked for; the number is fixed when the streams are created: "+
		"ask for %d, or 0 to take what exists", ErrPartitionsMismatch, existing, layoutNames(existing), asked, existing)
}

// layoutNames lists the streams of a log of n partitions.
func layoutNames(n int) string {
	specs := layout(n)
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// ReadStream is Read on the stream at index stream of Streams.
func (l *Log) ReadStream(ctx context.Context, stream int, fromSeq uint64, maxBatch int, fn func([]events.Message) error) error {
	streams := l.Streams()
	if stream < 0 || stream >= len(streams) {
		return fmt.Errorf("read stream %d: the log has %d stream(s)", stream, len(streams))
	}
	return streams[stream].Read(ctx, fromSeq, maxBatch, fn)
}

// LastSeqs returns the last sequence of each of Streams, in their order.
func (l *Log) LastSeqs(ctx context.Context) ([]uint64, error) {
	streams := l.Streams()
	seqs := make([]uint64, len(streams))
	for i, s := range streams {
		var err error
		if seqs[i], err = s.LastSeq(ctx); err != nil {
			return nil, err
		}
	}
	return seqs, nil
}

// GetOn is Get on the stream that holds subject: seq is a sequence of
// that stream, such as an append to subject returned.
func (l *Log) GetOn(ctx context.Context, subject string, seq uint64) (events.Message, error) {
	return l.route(subject).Get(ctx, seq)
}

// StreamNames returns the name of each of Streams, in their order.
func (l *Log) StreamNames() []string {
	streams := l.Streams()
	names := make([]string, len(streams))
	for i, s := range streams {
		names[i] = s.Name()
	}
	return names
}

// StreamIndexOf returns the index in Streams of the stream that holds
// subject: its partition, the last for the policy subject, 0 on the single
// stream.
func (l *Log) StreamIndexOf(subject string) int {
	switch {
	case l.parts == nil:
		return 0
	case subject == events.PolicySubject:
		return len(l.parts) - 1
	}
	return PartitionOf(subject, l.spec.partitions)
}
