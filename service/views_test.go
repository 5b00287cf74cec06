package service_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// A read model rebuilt from the log replaces the live one while queries
// keep being answered, and answers the same.
func TestSwapInRebuiltViewsWithoutDowntime(t *testing.T) {
	h := newHarness(t)
	s := playBefore(h)
	var before api.InboxPage
	h.mustQuery("inbox", map[string]any{"account": bob}, &before)

	reading := readInboxes(h, bob, 4, func(page api.InboxPage) bool { return len(page.Items) == 2 })
	rebuilt, err := projector.Open(projector.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	time.Sleep(20 * time.Millisecond) // let the readers run against the old store first
	old, err := h.svc.SwapViews(ctx, rebuilt)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	h.store = rebuilt // the harness closes what is live
	time.Sleep(20 * time.Millisecond)
	answered, failed := reading.stop()
	if failed != 0 || answered == 0 {
		t.Fatalf("%d of %d queries failed across the swap", failed, answered)
	}
	var after api.InboxPage
	h.mustQuery("inbox", map[string]any{"account": bob}, &after)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("the rebuilt inbox differs:\n%+v\n%+v", before, after)
	}
	h.must(alice, "message.send", map[string]any{"conversation_id": s.Cross, "text": "after the swap"})
	var conv api.ConversationView
	h.mustQuery("conversation", map[string]any{"conversation_id": s.Cross}, &conv)
	if conv.Version != 6 {
		t.Fatalf("the rebuilt store follows the log after the swap: %+v", conv)
	}
}

// inboxReaders ask an account's inbox in a loop until stopped.
type inboxReaders struct {
	done             chan struct{}
	wg               sync.WaitGroup
	answered, failed atomic.Int64
	first            atomic.Value // the first failure, a string
}

// readInboxes starts n readers of account's inbox; a page is failed when
// the query errs or ok says it is wrong.
func readInboxes(h *harness, account events.Account, n int, ok func(api.InboxPage) bool) *inboxReaders {
	r := &inboxReaders{done: make(chan struct{})}
	for range n {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			for {
				select {
				case <-r.done:
					return
				default:
				}
				var page api.InboxPage
				if err := h.query("inbox", map[string]any{"account": account}, &page); err != nil || !ok(page) {
					r.failed.Add(1)
					r.first.CompareAndSwap(nil, fmt.Sprintf("err %v, page %+v", err, page))
				}
				r.answered.Add(1)
			}
		}()
	}
	return r
}

// stop stops the readers and says how many pages they got and how many
// of them failed.
func (r *inboxReaders) stop() (answered, failed int64) {
	close(r.done)
	r.wg.Wait()
	return r.answered.Load(), r.failed.Load()
}

// firstFailure says what the first failed page was, "" when none failed.
func (r *inboxReaders) firstFailure() string {
	s, _ := r.first.Load().(string)
	return s
}
