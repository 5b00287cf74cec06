package backup

import (
	"context"
	"fmt"
	"slices"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/eventlog"
)

// logSum is audit.ChecksumStreams of log up to until, except that a stream
// empty in its snapshot (until 0) sums to the sum of nothing:
// ChecksumStreams reads 0 as "the stream's last", which would cover events
// appended to it since its snapshot, and no restore would find them.
func logSum(ctx context.Context, log *eventlog.Log, until []uint64) (audit.LogSum, error) {
	if !slices.Contains(until, 0) {
		return audit.ChecksumStreams(ctx, log, until)
	}
	logs, names, err := audit.StreamsOf(ctx, log)
	if err != nil {
		return audit.LogSum{}, err
	}
	if len(logs) != len(until) {
		return audit.LogSum{}, fmt.Errorf("checksum: %d until sequences for %d stream(s) (%v)", len(until), len(logs), names)
	}
	if len(logs) == 1 {
		return audit.LogSum{Sum: audit.NewSummer().Sum()}, nil
	}
	var total audit.LogSum
	for i, l := range logs {
		s := audit.NewSummer().Sum()
		if until[i] > 0 {
			if s, err = audit.Checksum(ctx, l, until[i]); err != nil {
				return audit.LogSum{}, fmt.Errorf("stream %s: %w", names[i], err)
			}
		}
		total.Streams = append(total.Streams, audit.StreamSum{Stream: names[i], Hex: s.Hex, Events: s.Events, UntilSeq: s.UntilSeq})
		total.Events += s.Events
	}
	total.Hex = audit.CombineSums(total.Streams)
	return total, nil
}
