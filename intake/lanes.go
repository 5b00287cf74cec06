package intake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"regexp"
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

// plainApp is an app name that can be a consumer's name as it is.
var plainApp = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)

// AppConsumer is the name of the durable pull consumer that decides app's
// intake, crosstalk.intake.<app>.>: ConsumerName, "-app-" and the app when
// it is a valid app name, else "-sha-" and a hash of it (a subject token
// may hold what a consumer name may not).
func AppConsumer(app string) string {
	if plainApp.MatchString(app) {
		return ConsumerName + "-app-" + app
	}
	sum := sha256.Sum256([]byte(app))
	return ConsumerName + "-sha-" + hex.EncodeToString(sum[:12])
}

// appConsumerConfig is the consumer of app's intake: its subjects
// crosstalk.intake.<app>.> and the bare crosstalk.intake.<app>, which the
// stream captures too (a bad message, but one that must get its outcome).
func appConsumerConfig(app string) jetstream.ConsumerConfig {
	cfg := consumerConfig()
	cfg.Durable = AppConsumer(app)
	cfg.Description = "crosstalk: decides the durable intake of one app"
	cfg.FilterSubjects = []string{api.IntakePrefix + app, api.IntakeSubject(app, ">")}
	return cfg
}

// lane is one app's share of the intake: its consumer, a fetcher that
// fetches one batch ahead, and the messages of that batch not yet taken.
type lane struct {
	app   string
	buf   []jetstream.Msg
	taken chan struct{} // the fetcher may fetch again
}

// arrival is a batch a lane's fetcher fetched.
type arrival struct {
	l    *lane
	msgs []jetstream.Msg
}

// lanes serves every app's intake round robin: a batch takes one message
// of each app in turn, so an app's backlog delays another app's command by
// one batch at most.
type lanes struct {
	c        *Consumer
	ctx      context.Context
	all      []*lane
	byApp    map[string]*lane
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

// discover gives a lane to every app with messages in the stream and none
// yet; a new lane's consumer starts at the app's first message.
func (ls *lanes) discover() error {
	ls.found = time.Now()
	s, err := ls.c.in.js.Stream(ls.ctx, StreamName)
	if err != nil {
		return err
	}
	info, err := s.Info(ls.ctx, jetstream.WithSubjectFilter(StreamSubjects))
	if err != nil {
		return err
	}
	for subject := range info.State.Subjects {
		app, _, _ := strings.Cut(strings.TrimPrefix(subject, api.IntakePrefix), ".")
		if _, ok := ls.byApp[app]; ok {
			continue
		}
		if err := ls.open(app); err != nil {
			return err
		}
	}
	return nil
}

// open creates app's consumer and starts its fetcher.
func (ls *lanes) open(app string) error {
	cons, err := ls.c.in.js.CreateOrUpdateConsumer(ls.ctx, StreamName, appConsumerConfig(app))
	if err != nil {
		return err
	}
	l := &lane{app: app, taken: make(chan struct{}, 1)}
	ls.all = append(ls.all, l)
	ls.byApp[app] = l
	ls.wg.Go(func() { ls.fetchLoop(l, cons) })
	return nil
}

// fetchLoop fetches l's batches, each after the previous one is taken.
func (ls *lanes) fetchLoop(l *lane, cons jetstream.Consumer) {
	for ls.ctx.Err() == nil {
		msgs, err := ls.c.fetch(ls.ctx, cons)
		if err != nil {
			if ls.ctx.Err() == nil {
				ls.c.in.logger().Warn("intake: fetch failed", slog.String("app", l.app), slog.Any("err", err))
				sleep(ls.ctx, ls.c.in.opts.RetryDelay)
			}
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		select {
		case ls.arrivals <- arrival{l, msgs}:
		case <-ls.ctx.Done():
			return
		}
		select {
		case <-l.taken:
		case <-ls.ctx.Done():
			return
		}
	}
}

// batch returns the next batch to decide, up to Options.Batch messages
// taken round robin from the lanes; it waits for one when none is fetched,
// and looks for new apps every discoverEvery meanwhile. It returns nothing
// once ctx is done.
func (ls *lanes) batch() []jetstream.Msg {
	for ls.ctx.Err() == nil {
		if time.Since(ls.found) >= discoverEvery {
			if err := ls.discover(); err != nil && ls.ctx.Err() == nil {
				ls.c.in.logger().Warn("intake: look for apps", slog.Any("err", err))
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

// deleteConsumers deletes every consumer of the intake: the one of each
// app and the single one of before issue 22, whose unfiltered delivery a
// work queue would not let the apps' consumers share.
func deleteConsumers(ctx context.Context, js jetstream.JetStream) error {
	s, err := js.Stream(ctx, StreamName)
	if err != nil {
		return err
	}
	names := s.ConsumerNames(ctx)
	var errs []error
	for name := range names.Name() {
		if name != ConsumerName && !strings.HasPrefix(name, ConsumerName+"-") {
			continue
		}
		if err := s.DeleteConsumer(ctx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, names.Err())...)
}
