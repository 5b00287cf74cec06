package intake

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
)

// discoverEvery is how often the consumer looks for an app whose intake
// it does not serve yet: a new app's first command waits this long at most
// (and for the batch under way) before its app gets a lane.
const discoverEvery = 200 * time.Millisecond

// lane is one intake stream's share of the intake (an app's, or the
// legacy stream's while it drains): its consumer, a fetcher that fetches
// one batch ahead, and the messages of that batch not yet taken.
type lane struct {
	stream string
	buf    []jetstream.Msg
	taken  chan struct{} // the fetcher may fetch again
	ctx    context.Context
	cancel context.CancelFunc
}

// arrival is a batch a lane's fetcher fetched.
type arrival struct {
	l    *lane
	msgs []jetstream.Msg
}

// lanes serves every intake stream round robin: a batch takes one message
// of each stream in turn, so an app's backlog delays another app's command
// by one batch at most.
type lanes struct {
	c        *Consumer
	ctx      context.Context
	all      []*lane
	byStream map[string]*lane
	arrivals chan arrival
	next     int // the lane a batch starts with, in turn
	found    time.Time
	wg       sync.WaitGroup
}

// stop stops every fetcher and waits for them.
func (ls *lanes) stop(cancel context.CancelFunc) {
	cancel()
	ls.wg.Wait()
}

// discover gives a lane to every intake stream that has none yet, and
// closes the lanes of streams gone; a new lane's consumer starts at the
// stream's first message. An app's stream waits while the legacy stream
// still holds messages of that app, so that its older commands go first.
func (ls *lanes) discover() error {
	ls.found = time.Now()
	names, err := intakeStreams(ls.ctx, ls.c.in.js)
	if err != nil {
		return err
	}
	exist := map[string]bool{}
	var legacy map[string]bool
	for _, name := range names {
		exist[name] = true
		if name == LegacyStreamName {
			var gone bool
			if legacy, gone, err = ls.legacyApps(); err != nil {
				return err
			}
			exist[name] = !gone
		}
	}
	ls.closeGone(exist)
	for _, name := range names {
		if _, ok := ls.byStream[name]; ok || !exist[name] || legacy[strings.TrimPrefix(name, StreamPrefix)] {
			continue
		}
		if err := ls.open(name); err != nil {
			return err
		}
	}
	return nil
}

// legacyApps are the apps with messages in the legacy stream; once it
// holds none it is deleted (deleteIfDrained: gone), and then no app waits.
func (ls *lanes) legacyApps() (apps map[string]bool, gone bool, err error) {
	js := ls.c.in.js
	s, err := js.Stream(ls.ctx, LegacyStreamName)
	if err != nil {
		return nil, false, err
	}
	info := s.CachedInfo()
	if info.State.Msgs == 0 && len(info.Config.Subjects) == 1 && info.Config.Subjects[0] == RetiredSubjects {
		err := deleteIfDrained(ls.ctx, js, s, ls.c.in.logger())
		return nil, err == nil, err
	}
	full, err := s.Info(ls.ctx, jetstream.WithSubjectFilter(api.IntakePrefix+">"))
	if err != nil {
		return nil, false, err
	}
	apps = map[string]bool{}
	for subject := range full.State.Subjects {
		app, _, _ := strings.Cut(strings.TrimPrefix(subject, api.IntakePrefix), ".")
		apps[app] = true
	}
	return apps, false, nil
}

// closeGone stops the lanes of the streams not in exist (deleted).
func (ls *lanes) closeGone(exist map[string]bool) {
	kept := ls.all[:0]
	for _, l := range ls.all {
		if exist[l.stream] {
			kept = append(kept, l)
			continue
		}
		l.cancel()
		delete(ls.byStream, l.stream)
	}
	clear(ls.all[len(kept):])
	ls.all = kept
}

// open creates the consumer of stream and starts its fetcher.
func (ls *lanes) open(stream string) error {
	cons, err := ls.c.in.js.CreateOrUpdateConsumer(ls.ctx, stream, consumerConfig())
	if err != nil {
		return err
	}
	l := &lane{stream: stream, taken: make(chan struct{}, 1)}
	l.ctx, l.cancel = context.WithCancel(ls.ctx)
	ls.all = append(ls.all, l)
	ls.byStream[stream] = l
	ls.wg.Go(func() { ls.fetchLoop(l, cons) })
	return nil
}

// fetchLoop fetches l's batches, each after the previous one is taken.
// While fetches fail (an outage) it waits longer between tries, up to
// maxFetchBackoff, and logs the first failure, then at most one line per
// fetchLogEvery, then the recovery: not a line a second for as long as
// NATS is away.
func (ls *lanes) fetchLoop(l *lane, cons jetstream.Consumer) {
	var out outage
	for l.ctx.Err() == nil {
		msgs, err := ls.c.fetch(l.ctx, cons)
		if err != nil {
			if l.ctx.Err() == nil {
				sleep(l.ctx, out.failed(ls.c.in.logger(), l.stream, err, ls.c.in.opts.RetryDelay))
			}
			continue
		}
		out.recovered(ls.c.in.logger(), l.stream)
		if len(msgs) == 0 {
			continue
		}
		select {
		case ls.arrivals <- arrival{l, msgs}:
		case <-l.ctx.Done():
			return
		}
		select {
		case <-l.taken:
		case <-l.ctx.Done():
			return
		}
	}
}

// batch returns the next batch to decide, up to Options.Batch messages
// taken round robin from the lanes; it waits for one when none is fetched,
// and looks for new intake streams every discoverEvery meanwhile. It returns nothing
// once ctx is done.
func (ls *lanes) batch() []jetstream.Msg {
	for ls.ctx.Err() == nil {
		if time.Since(ls.found) >= discoverEvery {
			if err := ls.discover(); err != nil && ls.ctx.Err() == nil {
				ls.c.in.logger().Warn("intake: look for intake streams", slog.Any("err", err))
			}
		}
		ls.received()
		if msgs := ls.take(); len(msgs) > 0 {
			return msgs
		}
		ls.await()
	}
	return nil
}

// received takes in the batches fetched meanwhile, without waiting.
func (ls *lanes) received() {
	for {
		select {
		case a := <-ls.arrivals:
			a.l.buf = a.msgs
		default:
			return
		}
	}
}

// await waits for a fetched batch, the next discovery, or ctx.
func (ls *lanes) await() {
	t := time.NewTimer(max(0, discoverEvery-time.Since(ls.found)))
	defer t.Stop()
	select {
	case a := <-ls.arrivals:
		a.l.buf = a.msgs
	case <-t.C:
	case <-ls.ctx.Done():
	}
}

// take takes one message of each lane in turn until the batch is full or
// the lanes are empty; a lane emptied may fetch again.
func (ls *lanes) take() []jetstream.Msg {
	var msgs []jetstream.Msg
	for more := true; more && len(msgs) < ls.c.in.opts.Batch; {
		more = false
		for i := range ls.all {
			l := ls.all[(ls.next+i)%len(ls.all)]
			if len(l.buf) == 0 || len(msgs) == ls.c.in.opts.Batch {
				continue
			}
			msgs = append(msgs, l.buf[0])
			l.buf = l.buf[1:]
			more = more || len(l.buf) > 0
			if len(l.buf) == 0 {
				l.taken <- struct{}{}
			}
		}
	}
	if len(ls.all) > 0 {
		ls.next = (ls.next + 1) % len(ls.all)
	}
	return msgs
}

// fetchLogEvery spaces the log lines of a fetch outage.
const fetchLogEvery = time.Minute

// maxFetchBackoff bounds the wait between two failed fetches.
const maxFetchBackoff = 10 * time.Second

// outage is a lane's run of failed fetches.
type outage struct {
	failures int
	since    time.Time
	logged   time.Time
}

// failed counts a failed fetch, logs it if it is the first or the last
// line is fetchLogEvery old, and returns how long to wait before the next.
func (o *outage) failed(logger *slog.Logger, stream string, err error, delay time.Duration) time.Duration {
	now := time.Now()
	if o.failures == 0 {
		o.since = now
	}
	o.failures++
	if o.failures == 1 || now.Sub(o.logged) >= fetchLogEvery {
		o.logged = now
		logger.Warn("intake: fetch failed", slog.String("stream", stream), slog.Int("failures", o.failures),
			slog.Duration("for", now.Sub(o.since).Round(time.Second)), slog.Any("err", err))
	}
	return min(delay<<min(o.failures-1, 16), max(delay, maxFetchBackoff))
}

// recovered logs the end of an outage, if there was one.
func (o *outage) recovered(logger *slog.Logger, stream string) {
	if o.failures == 0 {
		return
	}
	logger.Info("intake: fetching again", slog.String("stream", stream), slog.Int("failures", o.failures),
		slog.Duration("after", time.Since(o.since).Round(time.Second)))
	*o = outage{}
}
