package service_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
)

// streamLeader names the server that leads the stream's replica group.
func streamLeader(t *testing.T, js jetstream.JetStream) string {
	t.Helper()
	var info *jetstream.StreamInfo
	err := askAgain(10*time.Second, func(ctx context.Context) error {
		st, err := js.Stream(ctx, events.StreamName)
		if err == nil {
			info = st.CachedInfo()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster == nil || info.Cluster.Leader == "" {
		t.Fatalf("stream %s has no leader: %+v", events.StreamName, info.Cluster)
	}
	return info.Cluster.Leader
}

// askAttempt bounds one stream info request. While the stream's replica
// group has no leader, no server answers one: a follower answers for a
// leaderless group only in a cluster whose JetStream has run for 10s
// (nats-server's startupThreshold; the test clusters are younger), and the
// leader elected a moment later does not answer a request that came before.
// A request sent just after the leader's shutdown, when the load is over
// before the shutdown, so waited its whole context (10s, 1 min) although
// the election took 11 ms. Asked again, as crosstalk's callers ask again
// on ErrUnavailable, it is answered by the new leader.
const askAttempt = time.Second

// askAgain calls ask with a context of askAttempt until it is answered
// (it returns nil or an error other than a timeout or ErrUnavailable), for
// at most limit, and returns its last error.
func askAgain(limit time.Duration, ask func(context.Context) error) error {
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), min(askAttempt, time.Until(deadline)))
		err := ask(ctx)
		cancel()
		unanswered := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, eventlog.ErrUnavailable)
		if !unanswered || time.Now().After(deadline) {
			return err
		}
		time.Sleep(25 * time.Millisecond)
	}
}
