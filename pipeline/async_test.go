package pipeline_test

import (
	"errors"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/pipeline"
)

// goAndWait runs Go and waits for done, which must come once.
func goAndWait(t *testing.T, p *pipeline.Pipeline, j pipeline.Job) {
	t.Helper()
	done := make(chan struct{}, 2)
	p.Go(testContext(t), j, func() { done <- struct{}{} })
	<-done
	select {
	case <-done:
		t.Fatal("done called twice")
	case <-time.After(100 * time.Millisecond):
	}
}

// Go writes a job as Write does: a conflict settles, the job catches up
// off the log's goroutine and is appended again at attempt 1; done comes
// once, after the last Settle.
func TestGoGoesAgainAfterAConflict(t *testing.T) {
	ctx, l := testContext(t), openLog(t)
	const subject = "crosstalk.events.conv.go"
	if _, _, err := l.Append(ctx, subject, 0, "other", []byte(`{"other":1}`)); err != nil {
		t.Fatal(err)
	}
	c := &counter{log: l, subject: subject, retries: 3}
	goAndWait(t, pipeline.New(l, nil), c)
	if len(c.settled) != 2 || !errors.Is(c.settled[0].Err, eventlog.ErrConflict) || c.settled[1].Err != nil {
		t.Fatalf("settled %+v, want a conflict then an append", c.settled)
	}
	if c.settled[1].Seq != 2 || c.attempts[1] != 1 {
		t.Fatalf("second append at seq %d attempt %d, want seq 2, attempt 1", c.settled[1].Seq, c.attempts[1])
	}
}

// A job Decide answers at once is done on the caller's goroutine, before
// Go returns, with nothing appended.
func TestGoAnswersAtOnceWithoutAnAppend(t *testing.T) {
	ctx, l := testContext(t), openLog(t)
	skip := &counter{log: l, subject: "crosstalk.events.conv.s", skip: true}
	var done bool
	pipeline.New(l, nil).Go(ctx, skip, func() { done = true })
	if !done || skip.decided != 1 || len(skip.settled) != 0 {
		t.Fatalf("done %v before Go returned, decided %d, settled %d; want true, 1, 0", done, skip.decided, len(skip.settled))
	}
	if last, err := l.LastSeq(ctx); err != nil || last != 0 {
		t.Fatalf("the stream holds %d messages (%v), want none", last, err)
	}
}
