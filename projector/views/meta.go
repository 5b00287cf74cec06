package views

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// ErrStreams reports a store opened with another number of streams than it
// was built with.
var ErrStreams = errors.New("projector: the store was built from another number of streams")

// LoadCheckpoints reads the checkpoints of a store of n streams, and
// records n in a new store of several. A store built from one stream
// (meta/checkpoint) is not one of several, nor the other way round.
func LoadCheckpoints(db *pebble.DB, n int) ([]uint64, error) {
	single, _, err := GetUint(db, CheckpointKey())
	if err != nil {
		return nil, err
	}
	had, found, err := GetUint(db, streamsKey())
	switch {
	case err != nil:
		return nil, err
	case n == 1 && found, n > 1 && single > 0, n > 1 && found && had != uint64(n):
		return nil, fmt.Errorf("%w: it follows %d stream(s), %d were asked for; rebuild the views (delete the directory)",
			ErrStreams, max(had, 1), n)
	case n == 1:
		return []uint64{single}, nil
	case !found:
		if err := db.Set(streamsKey(), EncodeUint(uint64(n)), pebble.Sync); err != nil {
			return nil, err
		}
	}
	cps := make([]uint64, n)
	for i := range cps {
		if cps[i], _, err = GetUint(db, StreamCheckpointKey(i)); err != nil {
			return nil, err
		}
	}
	return cps, nil
}
