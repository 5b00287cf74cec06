package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/pipeline"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// counter is a job that appends its next number to a subject, expecting
// the last sequence it knows there, and on a conflict reads the subject's
// last sequence from the log and goes again, up to retries times.
type counter struct {
	log      *eventlog.Log
	subject  string
	last     uint64 // the subject's last sequence, as the job knows it
	n        int
	retries  int
	skip     bool // answered without an append
	decided  int
	settled  []eventlog.Result
	attempts []int
}

func (c *counter) Decide(context.Context) (eventlog.Entry, bool) {
	c.decided++
	if c.skip {
		return eventlog.Entry{}, false
	}
	c.n++
	return eventlog.Entry{Subject: c.subject, ExpectedSeq: c.last, MsgID: fmt.Sprintf("%s-%d", c.subject, c.n),
		Data: fmt.Appendf(nil, `{"n":%d}`, c.n)}, true
}

func (c *counter) Settle(ctx context.Context, r eventlog.Result, attempt int) bool {
	c.settled, c.attempts = append(c.settled, r), append(c.attempts, attempt)
	if errors.Is(r.Err, eventlog.ErrConflict) && attempt < c.retries {
		last, err := c.log.LastSeqOn(ctx, c.subject)
		if err != nil {
			return false
		}
		c.last = last
		return true
	}
	if r.Err == nil {
		c.last = r.Seq
	}
	return false
}

func openLog(t *testing.T) *eventlog.Log {
	t.Helper()
	srv := natstest.Start(t)
	l, err := eventlog.Open(testContext(t), srv.JetStream(t), eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Write appends a job's decision with its expected sequence; when another
// append came first the job settles a conflict, catches up, and the
// pipeline decides and appends it again.
func TestWriteGoesAgainAfterAConflict(t *testing.T) {
	ctx, l := testContext(t), openLog(t)
	const subject = "crosstalk.events.conv.w"
	if _, _, err := l.Append(ctx, subject, 0, "other", []byte(`{"other":1}`)); err != nil {
		t.Fatal(err)
	}
	var appends int
	p := pipeline.New(l, func(time.Duration) { appends++ })
	c := &counter{log: l, subject: subject, retries: 3}
	p.Write(ctx, c)
	if len(c.settled) != 2 || !errors.Is(c.settled[0].Err, eventlog.ErrConflict) || c.settled[1].Err != nil {
		t.Fatalf("settled %+v, want a conflict then an append", c.settled)
	}
	if c.settled[1].Seq != 2 || c.attempts[1] != 1 || appends != 2 {
		t.Fatalf("second append at seq %d attempt %d, %d appends observed; want seq 2, attempt 1, 2", c.settled[1].Seq, c.attempts[1], appends)
	}
}

// A job out of retries settles its conflict and is not appended again.
func TestWriteStopsWhenTheJobGivesUp(t *testing.T) {
	ctx, l := testContext(t), openLog(t)
	const subject = "crosstalk.events.conv.g"
	if _, _, err := l.Append(ctx, subject, 0, "other", []byte(`{"other":1}`)); err != nil {
		t.Fatal(err)
	}
	c := &counter{log: l, subject: subject, retries: 0}
	pipeline.New(l, nil).Write(ctx, c)
	if c.decided != 1 || len(c.settled) != 1 || !errors.Is(c.settled[0].Err, eventlog.ErrConflict) {
		t.Fatalf("decided %d times, settled %+v; want once, a conflict", c.decided, c.settled)
	}
}

// WriteAll appends a round of jobs on distinct subjects together; a job
// answered without an append is not appended; one that conflicted goes
// again in the next round, alone.
func TestWriteAllInRounds(t *testing.T) {
	ctx, l := testContext(t), openLog(t)
	if _, _, err := l.Append(ctx, "crosstalk.events.conv.b", 0, "other", []byte(`{"other":1}`)); err != nil {
		t.Fatal(err)
	}
	a := &counter{log: l, subject: "crosstalk.events.conv.a", retries: 2}
	b := &counter{log: l, subject: "crosstalk.events.conv.b", retries: 2}
	skip := &counter{log: l, subject: "crosstalk.events.conv.s", skip: true}
	pipeline.New(l, nil).WriteAll(ctx, []pipeline.Job{a, b, skip})
	if len(a.settled) != 1 || a.settled[0].Err != nil {
		t.Fatalf("a settled %+v, want one append", a.settled)
	}
	if len(b.settled) != 2 || !errors.Is(b.settled[0].Err, eventlog.ErrConflict) || b.settled[1].Err != nil || b.attempts[1] != 1 {
		t.Fatalf("b settled %+v at attempts %v, want a conflict then an append in round 1", b.settled, b.attempts)
	}
	if skip.decided != 1 || len(skip.settled) != 0 {
		t.Fatalf("the job answered without an append was decided %d times and settled %d", skip.decided, len(skip.settled))
	}
	if last, err := l.LastSeq(ctx); err != nil || last != 3 {
		t.Fatalf("the stream holds %d messages (%v), want 3: the other, a's, b's", last, err)
	}
}

// A Log that only appends in batches (no Append) still writes one job.
func TestWriteThroughABatchOnlyLog(t *testing.T) {
	ctx, l := testContext(t), openLog(t)
	c := &counter{log: l, subject: "crosstalk.events.conv.o"}
	pipeline.New(batchOnly{l}, nil).Write(ctx, c)
	if len(c.settled) != 1 || c.settled[0].Err != nil || c.settled[0].Seq != 1 {
		t.Fatalf("settled %+v, want one append at seq 1", c.settled)
	}
}

// batchOnly hides the log's Append.
type batchOnly struct{ l *eventlog.Log }

func (b batchOnly) AppendAll(ctx context.Context, entries []eventlog.Entry) []eventlog.Result {
	return b.l.AppendAll(ctx, entries)
}
