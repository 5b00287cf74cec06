package nodestatus_test

import (
	"context"
	"errors"
	"testing"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/nodestatus"
)

// fixedSource is a service frozen in one state: its log's end, its views'
// checkpoint (none: no read model) and its loops.
type fixedSource struct {
	last, checkpoint     uint64
	logErr               error
	noViews              bool
	projecting, caughtUp bool
}

// fixedViews is a read model at one checkpoint.
type fixedViews uint64

func (v fixedViews) Checkpoint() uint64                       { return uint64(v) }
func (v fixedViews) Checkpoints() []uint64                    { return []uint64{uint64(v)} }
func (v fixedViews) Poisoned() ([]api.Poisoned, error)        { return nil, nil }
func (s fixedSource) LastSeq(context.Context) (uint64, error) { return s.last, s.logErr }
func (s fixedSource) Views() nodestatus.Views {
	if s.noViews {
		return nil
	}
	return fixedViews(s.checkpoint)
}
func (s fixedSource) Get(context.Context, uint64) (events.Message, error) {
	return events.Message{}, errors.New("not read")
}
func (s fixedSource) Partitioned() nodestatus.Partitioned                 { return nil }
func (s fixedSource) Streams(context.Context) ([]api.StreamStatus, error) { return nil, nil }
func (s fixedSource) Counted() api.Status                                 { return api.Status{} }
func (s fixedSource) Projecting() bool                                    { return s.projecting }
func (s fixedSource) CaughtUpAtStart() bool                               { return s.caughtUp }
func (s fixedSource) StartSeq() uint64                                    { return 7 }

// Readiness names the first reason a node should not take traffic, in its
// documented order, and a node without a read model has nothing to lag.
func TestReadinessNamesTheFirstReason(t *testing.T) {
	ready := fixedSource{last: 100, checkpoint: 95, projecting: true, caughtUp: true}
	for _, c := range []struct {
		name string
		src  fixedSource
		want error
	}{
		{"ready", ready, nil},
		{"log unreachable", fixedSource{logErr: errors.New("no responders"), last: 100}, nodestatus.ErrStreamUnreachable},
		{"lagging, and not projecting", fixedSource{last: 100, checkpoint: 10}, nodestatus.ErrLagging},
		{"not projecting", fixedSource{last: 100, checkpoint: 95, caughtUp: true}, nodestatus.ErrNotProjecting},
		{"not caught up", fixedSource{last: 100, checkpoint: 95, projecting: true}, nodestatus.ErrNotCaughtUpAtStart},
		{"no read model", fixedSource{last: 100, noViews: true}, nil},
	} {
		err := nodestatus.New(nodestatus.Config{}, c.src).Readiness(context.Background(), 10)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}
