package service_test

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// A read model rebuilt from the log replaces the live one while queries
// keep being answered, and answers the same.
func TestSwapInRebuiltViewsWithoutDowntime(t *testing.T) {
	h := newHarness(t)
	s := playBefore(h)
	var before api.InboxPage
	h.mustQuery("inbox", map[string]any{"account": bob}, &before)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var answered, failed atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var page api.InboxPage
				if err := h.query("inbox", map[string]any{"account": bob}, &page); err != nil || len(page.Items) != 2 {
					failed.Add(1)
				}
				answered.Add(1)
			}
		}()
	}
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
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || answered.Load() == 0 {
		t.Fatalf("%d of %d queries failed across the swap", failed.Load(), answered.Load())
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
