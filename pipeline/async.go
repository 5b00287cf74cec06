package pipeline

import (
	"context"
	"time"

	"github.com/crosstalk-dev/crosstalk/eventlog"
)

// AsyncLog is a Log that appends without waiting for the acknowledgement
// (*eventlog.Log does): done gets the result, once, on the goroutine that
// reads acknowledgements when the entry is stored or a duplicate, and on
// another otherwise (eventlog.Log.AppendAsync).
type AsyncLog interface {
	AppendAsync(ctx context.Context, e eventlog.Entry, done func(eventlog.Result))
}

// Go writes j as Write does, without waiting for the log: it returns once
// j's first entry is published, and calls done once j is settled for
// good. On a Log that is not an AsyncLog, it writes j on a goroutine of
// its own.
//
// j's Settle is called on the log's acknowledgement goroutine for an
// entry stored (no error, not a duplicate), and must not block there:
// every append of the log's connection waits behind it. Any other result
// is settled, and j decided and appended again if it asks, on a
// goroutine of its own, as Write would. done is called where j settled
// for good, or on the caller's goroutine when Decide answers j at once.
func (p *Pipeline) Go(ctx context.Context, j Job, done func()) {
	a, ok := p.log.(AsyncLog)
	if !ok {
		go func() {
			p.Write(ctx, j)
			done()
		}()
		return
	}
	e, ok := j.Decide(ctx)
	if !ok {
		done()
		return
	}
	start := time.Now()
	a.AppendAsync(ctx, e, func(r eventlog.Result) {
		p.appended(time.Since(start))
		if r.Err != nil || r.Duplicate {
			go p.settleFrom(ctx, j, r, done)
			return
		}
		if j.Settle(ctx, r, 0) {
			go p.again(ctx, j, done)
			return
		}
		done()
	})
}

// settleFrom settles j's first append with r, off the log's goroutine,
// and writes j on as Write does if it asks.
func (p *Pipeline) settleFrom(ctx context.Context, j Job, r eventlog.Result, done func()) {
	if j.Settle(ctx, r, 0) {
		p.writeFrom(ctx, j, 1)
	}
	done()
}

// again writes j from its second attempt, then calls done.
func (p *Pipeline) again(ctx context.Context, j Job, done func()) {
	p.writeFrom(ctx, j, 1)
	done()
}
