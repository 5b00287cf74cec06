package projector

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/crosstalk-dev/crosstalk/projector/views"

	"pgregory.net/rapid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// textRunes are what makes JSON longer than a text: the characters
// encoding/json escapes (six bytes for `<` or a control character),
// non-ASCII, and plain letters.
var textRunes = []rune{'<', '>', '&', '"', '\\', '\x01', '\n', 'a', 'é', '\u2028', '😀'}

// drawText draws a message text of 1..4,096 bytes.
func drawText(rt *rapid.T, label string) string {
	return rapid.StringOfN(rapid.SampledFrom(textRunes), 1, 1500, 4096).Draw(rt, label)
}

// Any page of any inbox or conversation, whatever its texts, names, limit
// and byte budget: its JSON as the query endpoint sends it is within the
// budget, unless it holds a single item, and paging gives every item once,
// in order.
func TestPagesFitTheirBytes(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		run++
		viewer := events.Account(fmt.Sprintf("instagram:viewer%d", run))
		convs, msgs := drawWorld(rt, f, viewer, fmt.Sprintf("r%d", run))
		mustApply(t, s, f.take())
		p := Page{Limit: rapid.IntRange(0, MaxPageSize).Draw(rt, "limit"), MaxBytes: rapid.IntRange(1, 80_000).Draw(rt, "budget")}
		if got := pageInbox(rt, s, viewer, p); !slices.Equal(got, convs) {
			rt.Fatalf("inbox paged %v, want %v", got, convs)
		}
		if got := pageMessages(rt, s, convs[0], viewer, p); !slices.Equal(got, msgs) {
			rt.Fatalf("messages paged %v, want %v", got, msgs)
		}
	})
}

// drawWorld starts conversations of viewer with long made-up names, each
// with messages of drawn texts, and returns the conversations newest
// first and the messages of the newest, oldest first.
func drawWorld(rt *rapid.T, f *feed, viewer events.Account, run string) (convs, msgs []string) {
	for c := range rapid.IntRange(1, 5).Draw(rt, "conversations") {
		id := fmt.Sprintf("%s-c%d", run, c)
		others := []events.Account{bob}
		for i := range rapid.IntRange(0, api.MaxParticipants-2).Draw(rt, "participants") {
			others = append(others, events.Account(fmt.Sprintf("messenger:%s%04d", strings.Repeat("x", 60), i)))
		}
		f.start(id, viewer, others...)
		msgs = nil
		for m := range rapid.IntRange(0, 8).Draw(rt, "messages") {
			mid := fmt.Sprintf("%s-m%d", id, m)
			f.send(id, mid, bob, drawText(rt, "text"))
			if rapid.Bool().Draw(rt, "react") {
				f.react(id, mid, viewer, rapid.StringOfN(rapid.SampledFrom(textRunes), 1, 16, 64).Draw(rt, "reaction"))
			}
			msgs = append(msgs, mid)
		}
		convs = append([]string{id}, convs...)
	}
	return convs, msgs
}

// pageInbox pages viewer's inbox as the query endpoint does and checks
// each page's size.
func pageInbox(rt *rapid.T, s *Store, viewer events.Account, p Page) (ids []string) {
	for {
		b, err := s.AppendInboxJSON(nil, viewer, p)
		if err != nil {
			rt.Fatal(err)
		}
		var page api.InboxPage
		if err := json.Unmarshal(b, &page); err != nil {
			rt.Fatalf("inbox page is not JSON: %v", err)
		}
		checkSize(rt, len(b), len(page.Items), p)
		for _, it := range page.Items {
			ids = append(ids, it.ConversationID)
		}
		if p.Cursor = page.NextCursor; p.Cursor == "" {
			return ids
		}
	}
}

// pageMessages pages conv's messages as viewer and checks each page's
// size as encoding/json writes it, as the query endpoint does.
func pageMessages(rt *rapid.T, s *Store, conv string, viewer events.Account, p Page) (ids []string) {
	for {
		page, err := s.MessagePage(conv, viewer, p, afterV2)
		if err != nil {
			rt.Fatal(err)
		}
		b, err := json.Marshal(page)
		if err != nil {
			rt.Fatal(err)
		}
		checkSize(rt, len(b), len(page.Items), p)
		for _, m := range page.Items {
			ids = append(ids, m.MessageID)
		}
		if p.Cursor = page.NextCursor; p.Cursor == "" {
			return ids
		}
	}
}

// checkSize fails a page of n bytes and items items that passes p.
func checkSize(rt *rapid.T, n, items int, p Page) {
	if items > views.ClampLimit(p.Limit) {
		rt.Fatalf("a page of %d items at limit %d", items, p.Limit)
	}
	if items > 1 && n > p.MaxBytes {
		rt.Fatalf("a page of %d items is %d bytes, budget %d", items, n, p.MaxBytes)
	}
}
