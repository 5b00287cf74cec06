package projector

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/crosstalk-dev/crosstalk/projector/views"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// TestRecordCacheNeverChangesTheViews applies one randomized log in four
// ways: one batch; one message per batch with the record cache warm; one
// message per batch with a cache of one record (so nearly every record
// comes from Pebble); runs of random length with the store reopened between
// runs (a cold cache each time, as after a restart). The stores must be
// equal key for key: where a record comes from must never show.
func TestRecordCacheNeverChangesTheViews(t *testing.T) {
	msgs := randomLog(t, rand.New(rand.NewPCG(7, 11)), 600)

	whole := openStore(t)
	mustApply(t, whole, msgs)
	want := dump(t, whole)

	warm := openStore(t)
	cold := openStoreWith(t, Options{Dir: t.TempDir(), RecordCache: 1, Logger: testkit.Quiet()})
	for _, m := range msgs {
		mustApply(t, warm, []events.Message{m})
		mustApply(t, cold, []events.Message{m})
	}
	sameStore(t, "warm cache, one per batch", want, dump(t, warm))
	sameStore(t, "cache of 1, one per batch", want, dump(t, cold))

	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 5))
	for rest := msgs; len(rest) > 0; {
		n := min(1+r.IntN(40), len(rest))
		s, err := Open(Options{Dir: dir, Logger: testkit.Quiet()})
		if err != nil {
			t.Fatal(err)
		}
		mustApply(t, s, rest[:n])
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	sameStore(t, "reopened between runs", want, dump(t, openStoreIn(t, dir, testkit.Quiet())))
}

// TestInboxItemsFollowTheRecords checks the denormalized inbox after a
// randomized log: every participant's item is where the conversation's
// activity says, shows the record's fields, and counts exactly the messages
// from others that are after the participant's read marker and not unsent.
func TestInboxItemsFollowTheRecords(t *testing.T) {
	s := openStoreWith(t, Options{Dir: t.TempDir(), RecordCache: 2, Logger: testkit.Quiet()})
	msgs := randomLog(t, rand.New(rand.NewPCG(1, 2)), 400)
	for i := 0; i < len(msgs); i += 7 {
		mustApply(t, s, msgs[i:min(i+7, len(msgs))])
	}
	for _, a := range randomAccounts {
		page, err := s.Inbox(a, MaxPageSize, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			var rec views.ConvRecord
			if _, err := views.GetJSON(s.db, views.ConvKey(item.ConversationID), &rec); err != nil {
				t.Fatal(err)
			}
			if !item.LastActivity.Equal(rec.LastActivity) || item.Closed != rec.Closed || !rec.IsParticipant(a) {
				t.Errorf("%s's item of %s = %+v, conversation %+v", a, item.ConversationID, item, rec)
			}
			if want := countUnread(t, s, a, item.ConversationID); item.Unread != want {
				t.Errorf("%s's unread in %s = %d, counted %d", a, item.ConversationID, item.Unread, want)
			}
		}
	}
}

// countUnread counts a's unread messages in conv from the messages view.
func countUnread(t *testing.T, s *Store, a events.Account, conv string) int {
	t.Helper()
	var marker views.ReadMarker
	if _, err := views.GetJSON(s.db, views.ReadKey(conv, a), &marker); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := views.Scan(s.db, views.MsgPrefix(conv), views.MsgKey(conv, marker.Seq+1), func(_, v []byte) (bool, error) {
		var m api.MessageView
		if err := json.Unmarshal(v, &m); err != nil {
			return false, err
		}
		if m.Sender != string(a) && !m.Unsent {
			n++
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var randomAccounts = []events.Account{alice, bob, carol, "messenger:dan", "instagram:eve"}

// randomLog builds a log of n events over a few conversations: sends,
// reads, edits, unsends, reactions, presence, and a closing now and then.
func randomLog(t *testing.T, r *rand.Rand, n int) []events.Message {
	f := newFeed(t)
	f.seedPolicies()
	type conv struct {
		id    string
		parts []events.Account
		msgs  []string
	}
	var convs []*conv
	for len(f.pending) < n {
		switch k := r.IntN(20); {
		case k == 0 || len(convs) == 0:
			parts := slices.Clone(randomAccounts)
			r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
			c := &conv{id: fmt.Sprintf("c%d", len(convs)), parts: parts[:2+r.IntN(2)]}
			f.start(c.id, c.parts[0], c.parts[1:]...)
			convs = append(convs, c)
		case k == 1:
			f.presence(randomAccounts[r.IntN(len(randomAccounts))], events.StatusActive)
		case k == 2 && r.IntN(10) == 0:
			f.closeByPolicy(convs[r.IntN(len(convs))].id, 2)
		default:
			c := convs[r.IntN(len(convs))]
			who := c.parts[r.IntN(len(c.parts))]
			if len(c.msgs) == 0 || k < 12 {
				id := fmt.Sprintf("%s-m%d", c.id, len(c.msgs))
				f.send(c.id, id, who, "hi "+id)
				c.msgs = append(c.msgs, id)
				continue
			}
			m := c.msgs[r.IntN(len(c.msgs))]
			switch k {
			case 12, 13, 14:
				f.read(c.id, m, who)
			case 15:
				f.edit(c.id, m, who, "edited")
			case 16:
				f.unsend(c.id, m, who)
			default:
				f.react(c.id, m, who, "👍")
			}
		}
	}
	return f.take()
}

func sameStore(t *testing.T, name string, want, got []string) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d keys, one batch %d", name, len(got), len(want))
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("%s: stores differ at entry %d:\n one batch %q\n this      %q", name, i, want[i], got[i])
		}
	}
}

func openStoreWith(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestInboxJSONIsTheEncodedPage checks that the stored items, served
// without decoding, are byte for byte what encoding/json makes of the page,
// texts with characters it escapes included, on every page of every inbox.
func TestInboxJSONIsTheEncodedPage(t *testing.T) {
	s := openStore(t)
	f := newFeed(t)
	f.seedPolicies()
	texts := []string{"<b>&amp;</b>", "line\u2028sep\u2029", "tab\tquote\"back\\", "ünï©ødé 🔥", "ctl\x01\x1f", "bad\xffutf8"}
	for i := range 45 {
		id := fmt.Sprintf("c%02d", i)
		f.start(id, alice, bob)
		f.send(id, id+"-m", alice, texts[i%len(texts)])
	}
	mustApply(t, s, f.take())
	mustApply(t, s, randomLog(t, rand.New(rand.NewPCG(5, 6)), 200))
	for _, a := range append(randomAccounts, "instagram:nobody") {
		for cursor, pages := "", 0; pages == 0 || cursor != ""; pages++ {
			page, err := s.Inbox(a, 7, cursor)
			got, gotErr := s.InboxJSON(a, 7, cursor)
			if err != nil || gotErr != nil {
				if !errors.Is(gotErr, ErrUnknownAccount) || !errors.Is(err, ErrUnknownAccount) {
					t.Fatalf("%s: Inbox err %v, InboxJSON err %v", a, err, gotErr)
				}
				break
			}
			want, err := json.Marshal(page)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("%s page %d:\n InboxJSON    %s\n json.Marshal %s", a, pages, got, want)
			}
			cursor = page.NextCursor
		}
	}
}
