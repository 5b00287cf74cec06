package bench

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/clock"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/service"
	"github.com/crosstalk-dev/crosstalk/snapshots"
)

// The cold-load figures (issue 25): the first command after a cold start on
// a conversation of Options.LongConversation messages, and on one of
// shortConversation, each on a commands-only service whose cache is empty.
const (
	figColdLong       = "cold_load_long"
	figColdShort      = "cold_load_short"
	figColdLongHeap   = "cold_load_long_heap"
	figColdFirst      = "cold_load_first"
	figColdOldEdit    = "cold_old_message_edit"
	shortConversation = 100
	// wantColdMS and wantColdHeap are issue 25's aims for 1,000,000
	// messages, held here to whatever LongConversation the run has.
	wantColdMS   = 50.0
	wantColdHeap = 64 << 10
	// wantColdRatio: the long conversation's cold load at most this many
	// times the short one's.
	wantColdRatio = 2.0
)

// coldConv is a generated conversation: its id, its first message's id
// and its first message's sender.
type coldConv struct {
	id, first string
	sender    events.Account
	messages  int
}

// coldLoad publishes the two conversations, loads each once through a
// commands-only service with snapshots (the first load of a conversation
// written before snapshots: its whole history, once; cold_load_first),
// then measures a second, cold service's first command on each.
func (r *runner) coldLoad(ctx context.Context) error {
	long, short, err := r.publishColdConversations(ctx)
	if err != nil {
		return err
	}
	store, err := snapshots.Open(ctx, r.env.js, snapshots.Options{})
	if err != nil {
		return err
	}
	err = r.coldService(ctx, store, func(ctx context.Context, c *client.Client) error {
		if _, err := timedSend(ctx, c, short); err != nil {
			return err
		}
		d, attempts, err := untilLoaded(ctx, c, long)
		r.add(Figure{Name: figColdFirst, Value: ms(d), Unit: "ms", Count: int64(attempts), Elapsed: d,
			Note: fmt.Sprintf("the first command on a conversation of %d messages written without snapshots: its whole history, once, "+
				"over %d attempts (each bounded by the append timeout, answered unavailable, retried)", long.messages, attempts)})
		return err
	})
	if err != nil {
		return err
	}
	err = r.coldService(ctx, store, func(ctx context.Context, c *client.Client) error {
		return r.coldFigures(ctx, c, long, short)
	})
	if err != nil {
		return err
	}
	retained, err := r.conversationHeap(ctx, store, long.id)
	r.add(Figure{Name: figColdLongHeap, Value: float64(retained), Unit: "bytes", Count: heapCopies,
		Note: fmt.Sprintf("live heap of the long conversation's state as a cold service caches it (its snapshot restored, the events after it folded): "+
			"%d copies held at once, per copy, the median of %d tries, no service running", heapCopies, heapTries)})
	return err
}

// coldFigures measures the cold figures on a service whose cache is empty.
func (r *runner) coldFigures(ctx context.Context, c *client.Client, long, short coldConv) error {
	ds, err := timedSend(ctx, c, short)
	if err != nil {
		return err
	}
	dl, err := timedSend(ctx, c, long)
	if err != nil {
		return err
	}
	edit, err := timed(ctx, c, long.sender, api.ActionMessageEdit, map[string]any{
		"conversation_id": long.id, "message_id": long.first, "text": "edited"})
	if err != nil {
		return err
	}
	r.add(Figure{Name: figColdShort, Value: ms(ds), Unit: "ms", Count: 1, Elapsed: ds,
		Note: fmt.Sprintf("the first message.send after a cold start on a conversation of %d messages", short.messages)})
	r.add(Figure{Name: figColdLong, Value: ms(dl), Unit: "ms", Count: 1, Elapsed: dl,
		Note: fmt.Sprintf("the first message.send after a cold start on a conversation of %d messages", long.messages)})
	r.add(Figure{Name: figColdOldEdit, Value: ms(edit), Unit: "ms", Count: 1, Elapsed: edit,
		Note: "message.edit of the long conversation's first message, out of memory: its record looked up and checked"})
	return nil
}

// coldService runs a commands-only service with snapshots, as
// serve --roles commands builds it, for fn, and stops it: each call is a
// cold start.
func (r *runner) coldService(ctx context.Context, store *snapshots.Store, fn func(context.Context, *client.Client) error) error {
	nc, err := r.env.connect("crosstalk bench cold node")
	if err != nil {
		return err
	}
	svc := service.New(nc, r.env.log, nil, service.Options{
		Clock: clock.NewSim(serviceStart), Logger: r.opts.Logger, Limits: r.limits(),
		NodeID: "bench-cold", Roles: []string{api.RoleCommands}, Snapshots: store,
	})
	cl, err := r.env.connect("crosstalk bench cold client")
	if err != nil {
		return err
	}
	return withService(ctx, svc, func(ctx context.Context) error { return fn(ctx, client.New(cl)) })
}

// publishColdConversations publishes the long and the short conversation,
// two accounts of appA writing in turn.
func (r *runner) publishColdConversations(ctx context.Context) (long, short coldConv, err error) {
	pub, err := newPublisher(r.env, "cold conversations publisher")
	if err != nil {
		return long, short, err
	}
	g := newGenerator(epoch, time.Millisecond, r.opts.TextSize, 0)
	err = r.phase("cold_load_publish", int64(r.opts.LongConversation+shortConversation), pub.acked.Load, func() error {
		if long, err = publishConversation(g, pub, "cold-long", r.opts.LongConversation); err != nil {
			return err
		}
		if short, err = publishConversation(g, pub, "cold-short", shortConversation); err != nil {
			return err
		}
		return pub.wait(ctx)
	})
	return long, short, err
}

// publishConversation publishes a conversation of n messages.
func publishConversation(g *generator, pub *publisher, kind string, n int) (coldConv, error) {
	a, b := account(appA, kind+"-a", 0), account(appA, kind+"-b", 0)
	id, ev, err := g.start(a, b)
	c := coldConv{id: id, sender: a, messages: n}
	for i := 0; err == nil && i <= n; i++ {
		if i > 0 {
			ev, err = g.send(id, []events.Account{a, b}[(i-1)%2])
		}
		if err == nil && i == 1 {
			c.first, err = messageIDOf(ev)
		}
		if err == nil {
			err = pub.publish(&nats.Msg{Subject: ev.subject, Data: ev.data}, ev.command)
		}
	}
	return c, err
}

func messageIDOf(ev generated) (string, error) {
	e, err := events.Decode(ev.data)
	if err != nil {
		return "", err
	}
	d, err := events.DataOf[events.MessageSentData](e)
	return d.MessageID, err
}

// untilLoaded sends into conv until a send is answered, as a producer
// retries an unavailable: a history too long to fold within the append
// timeout loads over several commands. It returns the time to the answer
// and how many sends it took.
func untilLoaded(ctx context.Context, c *client.Client, conv coldConv) (time.Duration, int, error) {
	began := time.Now()
	for attempts := 1; ; attempts++ {
		_, err := timedSend(ctx, c, conv)
		if client.CodeOf(err) != api.CodeUnavailable || attempts == 1000 {
			return time.Since(began), attempts, err
		}
	}
}

// timedSend times one message.send into conv.
func timedSend(ctx context.Context, c *client.Client, conv coldConv) (time.Duration, error) {
	return timed(ctx, c, conv.sender, api.ActionMessageSend, map[string]any{"conversation_id": conv.id, "text": "cold"})
}

// timed times one command, start to reply.
func timed(ctx context.Context, c *client.Client, actor events.Account, action string, body map[string]any) (time.Duration, error) {
	body["command_id"], body["actor"] = events.NewID(), actor
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	began := time.Now()
	_, err := c.Command(ctx, string(actor.App()), action, body)
	return time.Since(began), err
}

// heapCopies and heapTries make cold_load_long_heap steady against what
// the rest of the process frees and allocates meanwhile: megabytes now and
// then (nats-server drops a message block's cache 10 s after its last
// read), where one copy is tens of kilobytes.
const heapCopies, heapTries = 64, 5

// settleWait bounds how long conversationHeap waits for the heap to stop
// shrinking before it measures.
const settleWait = 30 * time.Second

// conversationHeap is the live heap the state of conversation conv holds
// once loaded as a cold service loads it. It reads the snapshot and the
// events after it once, waits until the heap stops shrinking (the caches
// of the reads before expire), then builds heapCopies states from those
// bytes (no read of JetStream meanwhile) and takes the heap with them
// less the heap just before, each after a collection, divided: the median
// of heapTries.
func (r *runner) conversationHeap(ctx context.Context, store *snapshots.Store, conv string) (int64, error) {
	snap, tail, err := r.conversationBytes(ctx, store, conv)
	if err != nil {
		return 0, err
	}
	settleHeap(ctx)
	per := make([]int64, heapTries)
	for t := range per {
		held := make([]*aggregate.Conversation, heapCopies)
		without := liveHeap()
		for i := range held {
			if held[i], err = foldConversation(snap, tail); err != nil {
				return 0, err
			}
		}
		per[t] = (liveHeap() - without) / heapCopies
		runtime.KeepAlive(held)
	}
	slices.Sort(per)
	return per[heapTries/2], nil
}

// settleHeap waits, up to settleWait, until two live-heap readings a
// second apart differ by less than a copy's worth.
func settleHeap(ctx context.Context) {
	deadline := time.Now().Add(settleWait)
	for last := liveHeap(); time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(time.Second)
		now := liveHeap()
		if d := last - now; d < 64<<10 && d > -64<<10 {
			return
		}
		last = now
	}
}

// conversationBytes reads conv's snapshot and the events after it.
func (r *runner) conversationBytes(ctx context.Context, store *snapshots.Store, conv string) ([]byte, []events.Message, error) {
	data, ok, err := store.Snapshot(ctx, conv)
	if err != nil || !ok {
		return nil, nil, fmt.Errorf("the snapshot of %s: found %t, %w", conv, ok, err)
	}
	c, err := aggregate.RestoreConversation(data)
	if err != nil {
		return nil, nil, err
	}
	var tail []events.Message
	for more, after := true, c.Position().LastSeq; more; {
		var msgs []events.Message
		if msgs, more, err = r.env.log.LoadPage(ctx, events.ConversationSubject(conv), after); err != nil {
			return nil, nil, err
		}
		tail = append(tail, msgs...)
		if len(msgs) > 0 {
			after = msgs[len(msgs)-1].Seq
		}
	}
	return data, tail, nil
}

// foldConversation restores a snapshot and folds the events after it, as
// a cold service does.
func foldConversation(snap []byte, tail []events.Message) (*aggregate.Conversation, error) {
	c, err := aggregate.RestoreConversation(snap)
	for i := 0; i < len(tail) && err == nil; i++ {
		var rec events.Recorded
		if rec, err = events.Record(tail[i].Seq, tail[i].Data); err == nil {
			err = c.Evolve(rec)
		}
	}
	return c, err
}

// liveHeap is the heap in use after a collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// coldTargets: issue 25's cold load, its heap, and the long conversation
// against the short one.
func (r *Result) coldTargets() {
	if f, ok := r.Figure(figColdLong); ok {
		r.Targets = append(r.Targets, Target{Name: figColdLong, Want: fmt.Sprintf("<= %gms", wantColdMS), Got: f.Value,
			Unit: "ms", Pass: f.Value <= wantColdMS})
	}
	if f, ok := r.Figure(figColdLongHeap); ok {
		r.Targets = append(r.Targets, Target{Name: figColdLongHeap, Want: fmt.Sprintf("<= %d bytes", wantColdHeap), Got: f.Value,
			Unit: "bytes", Pass: f.Value <= wantColdHeap})
	}
	if v, ok := r.ratio(MeasureValue, figColdLong, figColdShort); ok {
		r.Targets = append(r.Targets, Target{Name: figColdLong + "/" + figColdShort, Want: fmt.Sprintf("<= %g", wantColdRatio),
			Got: v, Pass: v <= wantColdRatio})
	}
}
