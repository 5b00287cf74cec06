package closer

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
)

// lostAfterLog is memLog whose node loses the closer's lease as its first
// run of appends returns, as a node deposed in the middle of a pass.
type lostAfterLog struct {
	memLog
	held *atomic.Bool
}

func (l *lostAfterLog) AppendAll(ctx context.Context, entries []eventlog.Entry) []eventlog.Result {
	defer l.held.Store(false)
	return l.memLog.AppendAll(ctx, entries)
}

// A closer whose node loses the lease in the middle of a pass stops before
// its next run of closings, and the pass does not count.
func TestDeposedCloserStopsBeforeItsNextRun(t *testing.T) {
	var held atomic.Bool
	held.Store(true)
	log := &lostAfterLog{held: &held}
	cmds := &memCommands{}
	c := newTestCloser(crossApp(5), log, cmds, time.Hour)
	c.opts.Holding = func() (uint64, bool) { return 7, held.Load() }
	if err := c.applyDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(log.appended) != 2 || len(cmds.closed) != 0 {
		t.Fatalf("appended %v, through the command path %v; want the first run of 2 only", log.appended, cmds.closed)
	}
	if st := c.get(2); st.passes != 0 {
		t.Fatalf("a pass stopped by the lease counted: %+v", st)
	}
}

// A closer that does not hold the lease applies no policy, but still
// closes what an opt-out decided on its node asks.
func TestCloserWithoutTheLeaseClosesOnlyOptOuts(t *testing.T) {
	log := &memLog{}
	cmds := &memCommands{}
	c := newTestCloser(crossApp(3), log, cmds, time.Hour)
	c.opts.Holding = func() (uint64, bool) { return 0, false }
	if err := c.applyDue(context.Background()); err != nil || len(log.appended) != 0 {
		t.Fatalf("applyDue without the lease: %v, appended %v", err, log.appended)
	}
	c.views = func() Views { return optOutViews{memViews{heads: crossApp(3)}} }
	if err := c.closeOptOut(context.Background(), OptOut{Account: "alpha:ann", EventID: "ev-9"}); err != nil {
		t.Fatal(err)
	}
	want := []string{events.ConversationSubject("a"), events.ConversationSubject("b")}
	if !slices.Equal(log.appended, want) {
		t.Fatalf("opt-out closed %v, want %v", log.appended, want)
	}
}

// optOutViews are memViews whose inbox lists a and b, cross-app and open.
type optOutViews struct{ memViews }

func (optOutViews) Inbox(events.Account, int, api.Cursor) (api.InboxPage, error) {
	return api.InboxPage{Items: []api.InboxItem{
		{ConversationID: "a", CrossApp: true}, {ConversationID: "b", CrossApp: true},
	}}, nil
}
