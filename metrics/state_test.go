package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/crosstalk-dev/crosstalk/metrics"
)

// TestUnreachableStream: while the log cannot be asked, the lag is left
// out (it is unknown, not 0), stream_reachable says so, and the scrape
// answers within one scrapeTimeout however many sources wait on the log.
func TestUnreachableStream(t *testing.T) {
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	r := metrics.New(metrics.Sources{
		Lag:           func(ctx context.Context) (uint64, float64, error) { return 0, 0, hang(ctx) },
		IntakePending: func(ctx context.Context) (uint64, error) { return 0, hang(ctx) },
	})
	began := time.Now()
	got, err := testutil.GatherAndCount(r.Gatherer(), "crosstalk_projector_lag_events", "crosstalk_intake_pending_messages")
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("a scrape with the stream unreachable took %s", took)
	}
	if got != 0 {
		t.Errorf("%d lag or intake series while the log does not answer, want none", got)
	}
	want := "# HELP crosstalk_stream_reachable 1 if the last scrape could read the event log's state (the stream answered), else 0: while 0 the lag metrics are left out.\n# TYPE crosstalk_stream_reachable gauge\ncrosstalk_stream_reachable 0\n"
	if err := testutil.GatherAndCompare(r.Gatherer(), strings.NewReader(want), "crosstalk_stream_reachable"); err != nil {
		t.Error(err)
	}
}

// TestCloserProgress: each version's affected, closed and applied figures.
func TestCloserProgress(t *testing.T) {
	r := metrics.New(metrics.Sources{
		Lag: func(context.Context) (uint64, float64, error) { return 0, 0, errors.New("unused") },
		Closer: func() map[uint64]metrics.Progress {
			return map[uint64]metrics.Progress{2: {Affected: 5, Closed: 3}}
		},
	})
	want := `# HELP crosstalk_closer_closed_conversations Conversations the read model shows closed by a policy version so far.
# TYPE crosstalk_closer_closed_conversations gauge
crosstalk_closer_closed_conversations{policy_version="2"} 3
# HELP crosstalk_closer_affected_conversations Conversations a policy version closes, as of the closer's latest scan.
# TYPE crosstalk_closer_affected_conversations gauge
crosstalk_closer_affected_conversations{policy_version="2"} 5
`
	if err := testutil.GatherAndCompare(r.Gatherer(), strings.NewReader(want),
		"crosstalk_closer_closed_conversations", "crosstalk_closer_affected_conversations"); err != nil {
		t.Error(err)
	}
}
