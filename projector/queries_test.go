package projector

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/projector/views"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

func inboxOrder(t *testing.T, s *Store, a events.Account, limit int) (ids []string, pages int) {
	t.Helper()
	cursor := ""
	for {
		page, err := s.Inbox(a, limit, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range page.Items {
			ids = append(ids, it.ConversationID)
		}
		if page.NextCursor == "" {
			return ids, pages
		}
		cursor = page.NextCursor
	}
}

// TestInboxOrderPagingAndActivity checks newest-first order across pages,
// and which events move a conversation to the top.
func TestInboxOrderPagingAndActivity(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	for i := 1; i <= 5; i++ {
		f.start(fmt.Sprintf("c%d", i), alice, bob)
		f.send(fmt.Sprintf("c%d", i), fmt.Sprintf("m%d", i), bob, "hello")
	}
	mustApply(t, s, f.take())
	ids, pages := inboxOrder(t, s, alice, 2)
	if want := []string{"c5", "c4", "c3", "c2", "c1"}; !slices.Equal(ids, want) || pages != 3 {
		t.Fatalf("inbox = %v in %d pages, want %v in 3", ids, pages, want)
	}

	// Reads, reactions, calls and closing do not move a conversation...
	f.read("c1", "m1", alice)
	f.react("c2", "m2", alice, "❤️")
	f.conv("c3", events.CallStarted, events.CallStartedData{CallID: "k", By: alice, Media: "video"})
	f.closeByPolicy("c4", 2)
	mustApply(t, s, f.take())
	if ids, _ := inboxOrder(t, s, alice, 0); !slices.Equal(ids, []string{"c5", "c4", "c3", "c2", "c1"}) {
		t.Fatalf("inbox moved without activity: %v", ids)
	}
	// ...a message, an edit or an unsend does, in one batch or across.
	f.send("c1", "m1b", alice, "back")
	f.edit("c3", "m3", bob, "hello!")
	mustApply(t, s, f.take())
	f.unsend("c2", "m2", bob)
	mustApply(t, s, f.take())
	if ids, _ := inboxOrder(t, s, alice, 0); !slices.Equal(ids, []string{"c2", "c3", "c1", "c5", "c4"}) {
		t.Fatalf("inbox after activity = %v", ids)
	}
	for _, a := range []events.Account{alice, bob} {
		if ids, _ := inboxOrder(t, s, a, 1); len(ids) != 5 {
			t.Fatalf("%s's inbox has %d entries, want 5 (the old ones deleted)", a, len(ids))
		}
	}
}

func TestInboxItemFields(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	f.start("c1", alice, bob)
	f.send("c1", "m1", bob, "hi alice")
	mustApply(t, s, f.take())
	page, err := s.Inbox(alice, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(page)
	var raw struct {
		Items []map[string]any `json:"items"`
	}
	_ = json.Unmarshal(b, &raw)
	for _, field := range []string{"conversation_id", "participants", "cross_app", "closed", "closed_by_policy", "last_activity", "last_message", "unread"} {
		if _, ok := raw.Items[0][field]; !ok {
			t.Errorf("inbox item JSON lacks %q: %s", field, b)
		}
	}
	it := page.Items[0]
	if it.LastMessage == nil || *it.LastMessage != (api.LastMessage{MessageID: "m1", Sender: string(bob), Text: "hi alice"}) || it.Unread != 1 || !it.CrossApp {
		t.Fatalf("inbox item = %+v", it)
	}
}

func TestInboxErrors(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	f.start("c1", alice, bob)
	mustApply(t, s, f.take())
	if _, err := s.Inbox(carol, 0, ""); !errors.Is(err, ErrUnknownAccount) {
		t.Fatalf("unknown account: err = %v", err)
	}
	for _, c := range []string{"!!!", views.EncodeCursor([]byte{1, 2})} {
		_, err := s.Inbox(alice, 0, c)
		if !errors.Is(err, ErrInvalidCursor) || !errors.Is(err, aggregate.ErrInvalid) {
			t.Fatalf("cursor %q: err = %v, want ErrInvalidCursor (an aggregate.ErrInvalid)", c, err)
		}
	}
	if page, err := s.Inbox(carol, 0, ""); err == nil || page.Items != nil {
		t.Fatal("unknown account returned a page")
	}
	for limit, want := range map[int]int{-1: 20, 0: 20, 7: 7, 200: 200, 5000: 200} {
		if got := views.ClampLimit(limit); got != want {
			t.Errorf("views.ClampLimit(%d) = %d, want %d", limit, got, want)
		}
	}
}

// TestUnreadCounts follows bob's unread count in a conversation through
// sends, a read, and unsends before and after his marker.
func TestUnreadCounts(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	f.start("c1", alice, bob, carol)
	f.send("c1", "m1", alice, "1")
	f.send("c1", "m2", alice, "2")
	f.send("c1", "m3", alice, "3")
	f.send("c1", "m4", carol, "4")
	mustApply(t, s, f.take())
	assertUnread(t, s, bob, "c1", 4)
	assertUnread(t, s, alice, "c1", 1)

	steps := []struct {
		do   func()
		bob  int
		desc string
	}{
		{func() { f.read("c1", "m2", bob) }, 2, "read up to m2"},
		{func() { f.unsend("c1", "m3", alice) }, 1, "unsend m3, after bob's marker"},
		{func() { f.unsend("c1", "m1", alice) }, 1, "unsend m1, before bob's marker"},
		{func() { f.send("c1", "m5", bob, "5") }, 1, "bob's own message"},
		{func() { f.read("c1", "m1", bob) }, 1, "a marker never moves back"},
		{func() { f.read("c1", "m5", bob) }, 0, "read everything"},
	}
	for _, st := range steps {
		st.do()
		mustApply(t, s, f.take())
		assertUnread(t, s, bob, "c1", st.bob)
	}
	assertUnread(t, s, alice, "c1", 2)
	assertUnread(t, s, carol, "c1", 2)
}

// TestMessageFolding checks edits, unsends and reactions folded into
// messages, the inbox preview after unsending the last message, and paging.
func TestMessageFolding(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	f.start("c1", alice, bob)
	f.send("c1", "m1", alice, "first")
	f.send("c1", "m2", bob, "second")
	f.send("c1", "m3", alice, "third")
	mustApply(t, s, f.take())
	f.edit("c1", "m1", alice, "first, edited")
	f.react("c1", "m1", bob, "👍")
	f.react("c1", "m1", alice, "😀")
	f.react("c1", "m1", alice, "")
	f.react("c1", "m3", bob, "😮")
	f.unsend("c1", "m3", alice)
	f.edit("c1", "m3", alice, "too late")
	mustApply(t, s, f.take())

	page, err := s.Messages("c1", bob, 2, "", afterV2)
	if err != nil {
		t.Fatal(err)
	}
	m1, m2 := page.Items[0], page.Items[1]
	if m1.Text != "first, edited" || !m1.Edited || len(m1.Reactions) != 1 || m1.Reactions[string(bob)] != "👍" {
		t.Fatalf("m1 = %+v", m1)
	}
	if m2.Text != "second" || m2.Edited || m2.Reactions == nil || page.NextCursor == "" {
		t.Fatalf("m2 = %+v, cursor %q", m2, page.NextCursor)
	}
	page, err = s.Messages("c1", bob, 2, page.NextCursor, afterV2)
	if err != nil {
		t.Fatal(err)
	}
	m3 := page.Items[0]
	if len(page.Items) != 1 || page.NextCursor != "" || !m3.Unsent || m3.Text != "" || len(m3.Reactions) != 0 || m3.Edited {
		t.Fatalf("last page = %+v", page)
	}
	inbox, _ := s.Inbox(alice, 0, "")
	if lm := inbox.Items[0].LastMessage; lm == nil || lm.MessageID != "m2" {
		t.Fatalf("preview after unsending the last message = %+v, want m2", lm)
	}
	f.unsend("c1", "m2", bob)
	f.unsend("c1", "m1", alice)
	mustApply(t, s, f.take())
	if inbox, _ = s.Inbox(alice, 0, ""); inbox.Items[0].LastMessage != nil {
		t.Fatalf("preview with every message unsent = %+v, want none", inbox.Items[0].LastMessage)
	}
}

func TestMessagesErrors(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	f.start("c1", alice, bob)
	mustApply(t, s, f.take())
	if _, err := s.Messages("c1", carol, 0, "", afterV2); !errors.Is(err, ErrNotParticipant) {
		t.Fatalf("non-participant: err = %v", err)
	}
	if _, err := s.Messages("c9", alice, 0, "", afterV2); !errors.Is(err, ErrConversationNotFound) {
		t.Fatalf("unknown conversation: err = %v", err)
	}
	if _, err := s.Messages("c1", alice, 0, "AAAA", afterV2); !errors.Is(err, ErrInvalidCursor) {
		t.Fatalf("bad cursor: err = %v", err)
	}
	page, err := s.Messages("c1", alice, 0, "", afterV2)
	if err != nil || page.Items == nil || page.ReadReceipts == nil {
		t.Fatalf("empty conversation = %+v, %v; want empty, not nil, items and receipts", page, err)
	}
}

// TestPresenceJSONHidesWhatIsNotVisible checks the wire shape of an
// invisible presence: only "visible": false.
func TestPresenceJSONHidesWhatIsNotVisible(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	f.seedPolicies()
	f.presence(alice, events.StatusActive)
	f.presence(bob, events.StatusIdle)
	mustApply(t, s, f.take())
	p, err := s.Presence(bob, alice, afterV2)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(p); string(b) != `{"visible":false}` {
		t.Fatalf("invisible presence JSON = %s", b)
	}
	p, _ = s.Presence(alice, bob, beforeV2)
	if b, _ := json.Marshal(p); string(b) != `{"visible":true,"status":"idle"}` {
		t.Fatalf("never-active presence JSON = %s", b)
	}
}

func TestPoliciesAndPolicyInForce(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	if p, err := s.PolicyInForce(afterV2); err != nil || p != nil {
		t.Fatalf("policy in force with none published = %v, %v", p, err)
	}
	f.seedPolicies()
	mustApply(t, s, f.take())
	for _, c := range []struct {
		now  time.Time
		want uint64
	}{{v1Effective.Add(-time.Second), 0}, {v1Effective, 1}, {beforeV2, 1}, {v2Effective, 2}, {afterV2, 2}} {
		p, err := s.PolicyInForce(c.now)
		if err != nil || p.VersionOf() != c.want {
			t.Errorf("policy in force at %v = v%d (%v), want v%d", c.now, p.VersionOf(), err, c.want)
		}
	}
	views, err := s.Policies()
	if err != nil || len(views) != 2 || views[0].Version != 1 || views[1].Version != 2 ||
		!views[1].EffectiveAt.Equal(v2Effective) || len(views[1].Links) != 2 || views[1].Links[0].Send {
		t.Fatalf("policies = %+v, %v", views, err)
	}
	b, _ := json.Marshal(views[0])
	var raw map[string]any
	_ = json.Unmarshal(b, &raw)
	for _, field := range []string{"version", "name", "effective_at", "links", "closed"} {
		if _, ok := raw[field]; !ok {
			t.Errorf("policy JSON lacks %q: %s", field, b)
		}
	}
}

func TestOpenConversationsForTheCloser(t *testing.T) {
	s, f := openStore(t), newFeed(t)
	f.start("c1", alice, bob)
	f.start("c2", alice, carol)
	f.start("c3", bob, carol, alice)
	mustApply(t, s, f.take())
	got := map[string][]events.App{}
	err := s.OpenConversations(func(id string, apps []events.App) error {
		got[id] = apps
		// The closer looks the conversation up while scanning.
		_, err := s.Conversation(id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]events.App{"c1": {"instagram", "messenger"}, "c2": {"instagram"}, "c3": {"messenger", "instagram"}}
	if len(got) != len(want) {
		t.Fatalf("open = %v, want %v", got, want)
	}
	for id, apps := range want {
		if !slices.Equal(got[id], apps) {
			t.Errorf("apps of %s = %v, want %v", id, got[id], apps)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := s.OpenConversations(func(string, []events.App) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("OpenConversations = %v after %d calls, want stop after 1", err, n)
	}
}
