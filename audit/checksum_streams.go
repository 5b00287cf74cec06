package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// StreamSum is one stream's checksum in a Sum of a partitioned log.
type StreamSum struct {
	// Stream is the stream's name.
	Stream string `json:"stream"`
	// Hex, Events and UntilSeq are the stream's Sum, in Checksum's format.
	Hex      string `json:"sum"`
	Events   uint64 `json:"events"`
	UntilSeq uint64 `json:"until_seq"`
}

// LogSum is the checksum of a log of one stream or several
// (ChecksumStreams): its Sum, and on a partitioned log each stream's.
type LogSum struct {
	Sum
	// Streams lists the sum of each stream of a partitioned log, in stream
	// order, and is empty for the single stream.
	Streams []StreamSum `json:"streams,omitempty"`
}

// ChecksumStreams is Checksum on a log of one stream or several. Each
// stream i is summed as Checksum sums the single stream, from its seq 1 to
// untilSeqs[i] (nil: every stream's last sequence when it starts; 0 for one
// stream: its last). On one stream the Sum is Checksum's, byte for byte. On
// several, Streams lists each stream's sum in stream order (P0 … P{N-1},
// POLICY), Events counts them all, UntilSeq is 0, and Hex is the sha256 of
// the text, one line per stream in that order,
//
//	<stream name> <until seq> <stream sum hex>\n
//
// (single spaces, decimal until seq, lowercase hex, every line ended by a
// newline): the sums are recomputed stream by stream, and then, by hand,
// printf 'CROSSTALK_P0 7 1fa9…\n…' | sha256sum.
func ChecksumStreams(ctx context.Context, log Log, untilSeqs []uint64) (LogSum, error) {
	logs, names, err := StreamsOf(ctx, log)
	if err != nil {
		return LogSum{}, fmt.Errorf("checksum: %w", err)
	}
	if untilSeqs != nil && len(untilSeqs) != len(logs) {
		return LogSum{}, fmt.Errorf("checksum: %d until sequences for %d stream(s) (%v)", len(untilSeqs), len(logs), names)
	}
	if len(logs) == 1 {
		var until uint64
		if untilSeqs != nil {
			until = untilSeqs[0]
		}
		sum, err := Checksum(ctx, log, until)
		return LogSum{Sum: sum}, err
	}
	total := LogSum{Streams: make([]StreamSum, len(logs))}
	for i, l := range logs {
		var until uint64
		if untilSeqs != nil {
			until = untilSeqs[i]
		}
		s, err := Checksum(ctx, l, until)
		if err != nil {
			return LogSum{}, fmt.Errorf("stream %s: %w", names[i], err)
		}
		total.Streams[i] = StreamSum{Stream: names[i], Hex: s.Hex, Events: s.Events, UntilSeq: s.UntilSeq}
		total.Events += s.Events
	}
	total.Hex = CombineSums(total.Streams)
	return total, nil
}

// CombineSums is the Hex of a partitioned log's Sum from its streams'
// sums (see ChecksumStreams).
func CombineSums(streams []StreamSum) string {
	h := sha256.New()
	for _, s := range streams {
		fmt.Fprintf(h, "%s %d %s\n", s.Stream, s.UntilSeq, s.Hex)
	}
	return hex.EncodeToString(h.Sum(nil))
}
