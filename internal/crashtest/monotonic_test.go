package crashtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// TestMonotonicReadsAcrossKills: the first answers after a kill -9 are
// never older than what was acknowledged before it. serve runs without
// --sync-always, so the views' last batches may be lost with the process;
// the service then holds queries back until the views have caught up with
// the stream's last sequence as of its start (readmodel/catchup.go), and
// answers not_caught_up rather than an older view.
func TestMonotonicReadsAcrossKills(t *testing.T) {
	const producers, kills = 6, 3
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, addr := t.TempDir(), testkit.FreeAddr(t)
	// Without --sync-always, so that a kill can leave the views behind the log.
	srv := newServeProcessArgs(t, bin, dir, addr, "serve", "--data", dir, "--listen", addr)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	c := client.New(connect(t, srv.addr, "crashtest-monotonic"))
	acked := newAckBook(producers)
	for i := range producers {
		conv, actor := acked.convs[i], fmt.Sprintf("instagram:m%d", i)
		mustCommand(ctx, t, c, "conversation.start", map[string]any{"command_id": uuid.NewString(), "actor": actor,
			"conversation_id": conv, "participants": []string{"instagram:reader"}})
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acked.produce(loadCtx, c, i)
		}()
	}
	for k := range kills {
		acked.waitProgress(ctx, t, 200) // the load runs again, and builds up views' batches
		before := acked.snapshot()
		if err := srv.Crash(0); err != nil {
			t.Fatal(err)
		}
		checkNotOlder(ctx, t, c, acked.convs, before, k)
	}
	stopLoad()
	wg.Wait()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
}

// ackBook keeps, per conversation, the version of its last acknowledged
// command.
type ackBook struct {
	mu      sync.Mutex
	convs   []string
	ver     []uint64
	lastErr error
}

func newAckBook(n int) *ackBook {
	b := &ackBook{convs: make([]string, n), ver: make([]uint64, n)}
	for i := range b.convs {
		b.convs[i] = uuid.NewString()
	}
	return b
}

// produce sends messages to conversation i until ctx is done, noting each
// acknowledged version; failures (serve is down) are retried with a new
// command.
func (b *ackBook) produce(ctx context.Context, c *client.Client, i int) {
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		r, err := c.Command(rctx, "instagram", "message.send", map[string]any{"command_id": uuid.NewString(),
			"actor": fmt.Sprintf("instagram:m%d", i), "conversation_id": b.convs[i], "text": "monotonic"})
		cancel()
		if err != nil {
			b.mu.Lock()
			b.lastErr = err
			b.mu.Unlock()
			time.Sleep(10 * time.Millisecond)
			continue
		}
		b.mu.Lock()
		b.ver[i] = max(b.ver[i], r.Version)
		b.mu.Unlock()
	}
}

// waitProgress waits until every conversation has n more acknowledged
// commands.
func (b *ackBook) waitProgress(ctx context.Context, t *testing.T, n uint64) {
	t.Helper()
	from := b.snapshot()
	deadline := time.Now().Add(time.Minute)
	for i := 0; i < len(from); {
		if b.snapshot()[i] >= from[i]+n {
			i++
			continue
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			b.mu.Lock()
			defer b.mu.Unlock()
			t.Fatalf("conversation %d: fewer than %d commands acknowledged within a minute: %v", i, n, b.lastErr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (b *ackBook) snapshot() []uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]uint64(nil), b.ver...)
}

// checkNotOlder asks each conversation at once after the restart, without
// min_seq, and fails if an answer is older than what was acknowledged
// before the kill. not_caught_up is allowed (and asked again): it is the
// refusal to answer from views that are behind.
func checkNotOlder(ctx context.Context, t *testing.T, c *client.Client, convs []string, before []uint64, kill int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(convs))
	for i, conv := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				var v api.ConversationView
				err := c.Query(ctx, api.QueryConversation, map[string]any{"conversation_id": conv}, &v)
				if client.CodeOf(err) == api.CodeNotCaughtUp {
					continue
				}
				if err != nil {
					errs <- fmt.Errorf("kill %d, conversation %d: %w", kill, i, err)
				} else if v.Version < before[i] {
					errs <- fmt.Errorf("kill %d, conversation %d: the first answer after the restart is version %d, "+
						"older than %d acknowledged before the kill", kill, i, v.Version, before[i])
				}
				return
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func mustCommand(ctx context.Context, t *testing.T, c *client.Client, action string, body map[string]any) {
	t.Helper()
	if _, err := c.Command(ctx, "instagram", action, body); err != nil {
		t.Fatalf("%s: %v", action, err)
	}
}
