package projector

import (
	"fmt"

	"github.com/crosstalk-dev/crosstalk/internal/optcheck"
)

// ErrInvalidOptions is wrapped by each violation Options.Validate reports;
// it is the same error as every crosstalk package's ErrInvalidOptions.
var ErrInvalidOptions = optcheck.ErrInvalid

// Validate reports every field of o that breaks its rule, joined, each
// wrapping ErrInvalidOptions: Dir is required; a zero field means its
// documented default, a negative count, size or duration is refused; and
// FeedsAfterStreams, when given, has one entry per stream.
func (o Options) Validate() error {
	v := optcheck.New("projector.Options")
	if o.Dir == "" {
		v.Add("Dir", "is required: give the directory of the Pebble store")
	}
	optcheck.NotNegative(v, "CacheSize", o.CacheSize)
	optcheck.NotNegative(v, "MaxBatch", o.MaxBatch)
	optcheck.NotNegative(v, "RecordCache", o.RecordCache)
	optcheck.NotNegative(v, "RetryInterval", o.RetryInterval)
	optcheck.NotNegative(v, "Streams", o.Streams)
	optcheck.NotNegative(v, "PresenceFanout", o.PresenceFanout)
	optcheck.NotNegative(v, "RunNotes", o.RunNotes)
	if n := len(o.FeedsAfterStreams); n > 0 && n != max(o.Streams, 1) {
		v.Add("FeedsAfterStreams", fmt.Sprintf("has %d entries for %d streams: give one per stream", n, max(o.Streams, 1)))
	}
	return v.Err()
}
