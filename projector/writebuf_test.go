package projector

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
)

// TestOwnWritesAgreeWithCommitted applies a random log of sends, edits,
// unsends, reactions and read receipts (many of them naming a message sent,
// changed or unsent earlier in the same run) in one batch, one message per
// batch, and in runs of random length. A tx reads what earlier events of
// its own run wrote from ownWrites and the rest from the committed store,
// so the three stores are equal key for key only if ownWrites answers as
// the committed store would.
func TestOwnWritesAgreeWithCommitted(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			msgs := recentLog(t, rand.New(rand.NewPCG(seed, 15)), 400)
			whole, single, split := openStore(t), openStore(t), openStore(t)
			mustApply(t, whole, msgs)
			for _, m := range msgs {
				mustApply(t, single, []events.Message{m})
			}
			r := rand.New(rand.NewPCG(seed, 16))
			for rest := msgs; len(rest) > 0; {
				n := min(len(rest), 1+r.IntN(30))
				mustApply(t, split, rest[:n])
				rest = rest[n:]
			}
			want := dump(t, whole)
			sameStore(t, "one per batch", want, dump(t, single))
			sameStore(t, "runs of random length", want, dump(t, split))
		})
	}
}

// recentLog returns n events over two conversations of three
// participants; the edits, unsends, reactions and read receipts name one of
// the last four messages of their conversation, so most of them name a
// message that the same run sent or changed.
func recentLog(t *testing.T, r *rand.Rand, n int) []events.Message {
	f := newFeed(t)
	people := []events.Account{alice, bob, carol}
	convs := []string{"c1", "c2"}
	sent := map[string][]string{}
	for _, c := range convs {
		f.start(c, alice, bob, carol)
	}
	for i := range n {
		c, who := convs[r.IntN(len(convs))], people[r.IntN(len(people))]
		ids := sent[c]
		if len(ids) == 0 || r.IntN(10) < 4 {
			id := fmt.Sprintf("m%d", i)
			f.send(c, id, who, "text "+id)
			sent[c] = append(ids, id)
			continue
		}
		id := ids[len(ids)-1-min(r.IntN(4), len(ids)-1)] // mostly recent ones
		switch r.IntN(4) {
		case 0:
			f.edit(c, id, who, fmt.Sprintf("edited %d", i))
		case 1:
			f.unsend(c, id, who)
		case 2:
			f.react(c, id, who, []string{"", "👍", "🔥"}[r.IntN(3)])
		default:
			f.read(c, id, who)
		}
	}
	return f.take()
}
