package intake

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// flakyDecider fails each command of fails with an internal error as many
// times as fails says (-1: always), then decides it as orderDecider does.
type flakyDecider struct {
	orderDecider
	mu    sync.Mutex
	fails map[string]int
}

func (d *flakyDecider) IntakeAll(ctx context.Context, cmds []Command) []Decision {
	out := make([]Decision, len(cmds))
	var pass []Command
	var at []int
	d.mu.Lock()
	for i, c := range cmds {
		var env envelope
		_ = json.Unmarshal(c.Body, &env)
		if n := d.fails[env.CommandID]; n != 0 {
			d.fails[env.CommandID] = n - 1
			out[i].Err = errors.New("a bug, or a state that passes")
			continue
		}
		pass, at = append(pass, c), append(at, i)
	}
	d.mu.Unlock()
	for j, dec := range d.orderDecider.IntakeAll(ctx, pass) {
		out[at[j]] = dec
	}
	return out
}

// An internal error says the command's outcome is unknown and to retry:
// the intake delivers it again, in order, and a command that fails so at
// every delivery is answered with it after internalDeliveries, so that the
// commands behind it go on.
func TestInternalErrorIsRetriedThenAnswered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js := natstest.Start(t).JetStream(t)
	in, err := Open(ctx, js, Options{Apps: []string{"app1"}, Batch: 4, RetryDelay: 20 * time.Millisecond, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ids := publishConversation(ctx, t, js, "app1", 10)
	d := &flakyDecider{fails: map[string]int{ids[2]: 2, ids[6]: -1}}
	want := slices.Delete(slices.Clone(ids), 6, 7) // every one but the one that always fails
	if got := runUntilDecided(ctx, t, in.Consumer(d), d, len(want)); !slices.Equal(got, want) {
		t.Errorf("decided %v,\nwant %v: the twice-failing command retried in its place, the always-failing one answered", got, want)
	}
	if n := d.fails[ids[6]]; n != -1-internalDeliveries {
		t.Errorf("the always-failing command was tried %d times, want %d", -1-n, internalDeliveries)
	}
}
