package audit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// shortLog is a real log that claims one message more than it holds, as a
// stream whose last message was removed behind the broker's back would.
type shortLog struct{ *eventlog.Log }

func (l shortLog) LastSeq(ctx context.Context) (uint64, error) {
	last, err := l.Log.LastSeq(ctx)
	return last + 1, err
}

func TestAWalkThatStallsSaysSo(t *testing.T) {
	saved := stallTimeout
	stallTimeout = 300 * time.Millisecond
	t.Cleanup(func() { stallTimeout = saved })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log, err := eventlog.Open(ctx, natstest.Start(t).JetStream(t), eventlog.Options{Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	subject := events.ConversationSubject("0192a000-0000-7000-8000-000000000001")
	for seq := range uint64(3) {
		if _, _, err := log.Append(ctx, subject, seq, "", []byte("body")); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Checksum(ctx, shortLog{log}, 0)
	if err == nil || !strings.Contains(err.Error(), "delivered nothing after seq 3") {
		t.Fatalf("a checksum of a stream that stops short: %v", err)
	}
	if _, err := Verify(ctx, shortLog{log}, nil); err == nil {
		t.Fatal("a verify of a stream that stops short must fail")
	}
}
