package eventlog

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Group commit (Options.GroupCommit): the appends that callers make while
// the stream is busy with earlier ones are published together as one
// JetStream atomic batch. On a server with SyncAlways, nats-server 2.15
// stores a single-replica stream's batch with its per-message syncs
// turned off, then flushes and fsyncs the stream once, and only then
// answers the batch's commit (stream.go, processJetStreamBatchMsg:
// coalesceSync): every append of the batch is on disk before any of its
// callers has a result, and the batch costs one fsync instead of one per
// append. A batch is all or nothing: one conflict or duplicate among its
// entries fails it whole, and then each entry is published again alone,
// which settles each exactly as Append would.

const (
	// maxGroup bounds a batch below nats-server's default limit of 1000
	// messages per atomic batch (max_batch_size).
	maxGroup = 500
	// minGroup is the fewest queued appends published as a batch; fewer
	// are published one by one. A batch has a fixed cost (nats-server
	// stages it in a file store of its own, created and removed per
	// batch) of 2–6 ms of CPU on the 2-core VM: BenchmarkSyncAlwaysPublish
	// has a batch of 32 even with 32 synced single publishes, in wall
	// time and in CPU, and a batch of 128 five times cheaper per message.
	minGroup = 32
)

// Batch headers of JetStream's atomic publish (ADR-50).
const (
	batchIDHeader     = "Nats-Batch-Id"
	batchSeqHeader    = "Nats-Batch-Sequence"
	batchCommitHeader = "Nats-Batch-Commit"
)

// committer groups the appends to one stream. It runs a goroutine only
// while appends are queued, so a Log needs no Close.
type committer struct {
	log *Log
	// committed, if not nil, is told the first sequence and the size of
	// each group committed as a batch, after its acknowledgement and
	// before its callers are answered (tests).
	committed func(first uint64, n int)

	mu      sync.Mutex
	queue   []*pendingAppend
	running bool
}

// pendingAppend is one queued append and where its result goes.
type pendingAppend struct {
	e      Entry
	header string
	done   chan Result // buffered: the committer never waits for a caller
}

// submit queues e, signed with header, and returns where its result will
// arrive.
func (c *committer) submit(e Entry, header string) <-chan Result {
	dones := make([]<-chan Result, 1)
	c.submitAll([]Entry{e}, []string{header}, []int{0}, dones)
	return dones[0]
}

// submitAll queues entries[i], signed with headers[i], for each i of idx
// at once, so that they can share a batch, and sets dones[i] to where its
// result will arrive.
func (c *committer) submitAll(entries []Entry, headers []string, idx []int, dones []<-chan Result) {
	c.mu.Lock()
	for _, i := range idx {
		p := &pendingAppend{e: entries[i], header: headers[i], done: make(chan Result, 1)}
		c.queue, dones[i] = append(c.queue, p), p.done
	}
	start := !c.running
	c.running = true
	c.mu.Unlock()
	if start {
		go c.run()
	}
}

// run commits queued appends, group after group, until none is left.
func (c *committer) run() {
	for {
		group := c.next()
		if group == nil {
			return
		}
		c.commit(group)
	}
}

// next takes up to maxGroup queued appends; nil (and the goroutine ends)
// when none is queued.
func (c *committer) next() []*pendingAppend {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := min(len(c.queue), maxGroup)
	if n == 0 {
		c.running = false
		return nil
	}
	group := c.queue[:n:n]
	c.queue = c.queue[n:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	return group
}

// commit publishes group, as one batch when it is large enough and else,
// or when the batch fails, one by one, and answers each caller.
func (c *committer) commit(group []*pendingAppend) {
	if len(group) >= minGroup {
		ctx, cancel := c.log.withDefaultTimeout(context.Background())
		first, ok := c.batch(ctx, group)
		cancel()
		if ok {
			if c.committed != nil {
				c.committed(first, len(group))
			}
			for i, p := range group {
				p.done <- Result{Seq: first + uint64(i)}
			}
			return
		}
	}
	// A timeout of its own: a batch that timed out leaves its entries
	// the whole of one.
	ctx, cancel := c.log.withDefaultTimeout(context.Background())
	defer cancel()
	c.singles(ctx, group)
}

// singles publishes each append of group alone, all before waiting for
// any acknowledgement, and answers each with what Append would return.
func (c *committer) singles(ctx context.Context, group []*pendingAppend) {
	futures := make([]jetstream.PubAckFuture, len(group))
	for i, p := range group {
		var err error
		if futures[i], err = c.log.publishAsync(p.e, p.header); err != nil {
			p.done <- Result{Err: err}
		}
	}
	for i, f := range futures {
		if f != nil {
			group[i].done <- c.log.await(ctx, group[i].e, f)
		}
	}
}

// batch publishes group as one atomic batch and returns the stream
// sequence of its first entry; the others follow it, in order (a
// single-replica stream stores a batch in one piece). ok is false when
// the batch was not stored, or may not have been: its entries are then
// to be published again, with their message ids.
func (c *committer) batch(ctx context.Context, group []*pendingAppend) (first uint64, ok bool) {
	for _, p := range group {
		if c.log.check(p.e) != nil {
			return 0, false
		}
	}
	nc, id := c.log.js.Conn(), nuid.Next()
	var reply *nats.Msg
	for i, p := range group {
		msg := c.batchMessage(p, id, i+1, i == len(group)-1)
		var err error
		if i < len(group)-1 {
			err = nc.PublishMsg(msg)
		} else {
			reply, err = nc.RequestMsgWithContext(ctx, msg)
		}
		if err != nil {
			return 0, false
		}
	}
	return batchFirst(reply.Data, len(group))
}

// batchMessage is p's message as entry seq of batch id, with the headers
// of an append (message sets the expected last subject sequence and the
// message id).
func (c *committer) batchMessage(p *pendingAppend, id string, seq int, commit bool) *nats.Msg {
	msg := message(p.e, c.log.spec.physical(p.e.Subject), p.header)
	msg.Header.Set(batchIDHeader, id)
	msg.Header.Set(batchSeqHeader, strconv.Itoa(seq))
	if commit {
		msg.Header.Set(batchCommitHeader, "1")
	}
	return msg
}

// batchAck is JetStream's answer to a batch's commit.
type batchAck struct {
	Seq   uint64          `json:"seq"`
	Count int             `json:"count"`
	Error json.RawMessage `json:"error"`
}

// batchFirst reads a batch's acknowledgement: the sequence of the first
// of its n messages, or ok false when the batch was refused.
func batchFirst(data []byte, n int) (uint64, bool) {
	var ack batchAck
	if err := json.Unmarshal(data, &ack); err != nil || ack.Error != nil || ack.Count != n || ack.Seq < uint64(n) {
		return 0, false
	}
	return ack.Seq - uint64(n) + 1, true
}

// commitAppend appends e as publishAsync and await do, through the
// committer when the log groups its commits.
func (l *Log) commitAppend(ctx context.Context, e Entry, header string) Result {
	if l.group == nil {
		f, err := l.publishAsync(e, header)
		if err != nil {
			return Result{Err: err}
		}
		return l.await(ctx, e, f)
	}
	return waitResult(ctx, e, l.group.submit(e, header))
}

// waitResult waits for a committed append's result, or ctx, as await
// does.
func waitResult(ctx context.Context, e Entry, done <-chan Result) Result {
	select {
	case r := <-done:
		return r
	case <-ctx.Done():
		return Result{Err: fmt.Errorf("append to %s after seq %d: %w (%w)", e.Subject, e.ExpectedSeq, ErrUnavailable, ctx.Err())}
	}
}

// grouped reports whether l, or every stream of a partitioned l, groups
// its commits.
func (l *Log) grouped() bool {
	return l.Streams()[0].group != nil
}

// appendAllGrouped is AppendAll through the committers: every entry is
// queued before any result is awaited, so that they share batches.
func (l *Log) appendAllGrouped(ctx context.Context, entries []Entry, headers []string) []Result {
	dones := make([]<-chan Result, len(entries))
	byStream := make(map[*Log][]int)
	for i, e := range entries {
		s := l.route(e.Subject)
		byStream[s] = append(byStream[s], i)
	}
	for s, idx := range byStream {
		s.group.submitAll(entries, headers, idx, dones)
	}
	results := make([]Result, len(entries))
	for i, done := range dones {
		results[i] = waitResult(ctx, entries[i], done)
	}
	return results
}
