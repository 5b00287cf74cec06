package projector

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/sealtest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// sealedFeed is a feed whose texts and reactions are sealed as the service
// seals them: with the scope's tree, under the message's index, bound to
// the event they travel in.
type sealedFeed struct {
	*feed
	keys  *sealtest.Trees
	index map[string]uint32 // message id -> message index in its conversation
	count map[string]uint32 // conversation -> messages sent
}

func newSealedFeed(t testing.TB) *sealedFeed {
	return &sealedFeed{feed: newFeed(t), keys: sealtest.New(), index: map[string]uint32{}, count: map[string]uint32{}}
}

// newSealedConversation is a sealed feed whose policies are published and
// whose conversation c1, of alice and carol, is started: where each story
// of this file begins.
func newSealedConversation(t testing.TB) *sealedFeed {
	f := newSealedFeed(t)
	f.seedPolicies()
	f.start("c1", alice, carol)
	return f
}

// sealed appends an event of typ whose payload mk makes with the sealed
// value of text by account (in a conversation), bound to the event's id.
func (f *sealedFeed) sealed(conv, msgID string, by events.Account, typ events.Type, text string, mk func(sealed string) any) {
	f.t.Helper()
	id := events.NewID()
	s, err := f.keys.Seal(by, conv, f.index[msgID], typ, id, text)
	if err != nil {
		f.t.Fatal(err)
	}
	f.now = f.now.Add(1e9)
	e, err := events.New(typ, conv, f.now, events.NewID(), 0, mk(s))
	if err != nil {
		f.t.Fatal(err)
	}
	e.ID = id
	f.seq++
	f.pending = append(f.pending, events.Message{Seq: f.seq, Subject: events.ConversationSubject(conv), Data: testkit.Encode(f.t, e)})
}

func (f *sealedFeed) sendSealed(conv, msgID string, by events.Account, text string) {
	f.count[conv]++
	f.index[msgID] = f.count[conv]
	f.sealed(conv, msgID, by, events.MessageSent, text, func(s string) any {
		return events.MessageSentData{MessageID: msgID, Sender: by, Sealed: s}
	})
}

func (f *sealedFeed) editSealed(conv, msgID string, by events.Account, text string) {
	f.sealed(conv, msgID, by, events.MessageEdited, text, func(s string) any {
		return events.MessageEditedData{MessageID: msgID, Editor: by, Sealed: s}
	})
}

func (f *sealedFeed) reactSealed(conv, msgID string, by events.Account, reaction string) {
	f.sealed(conv, msgID, by, events.MessageReacted, reaction, func(s string) any {
		return events.MessageReactedData{MessageID: msgID, Account: by, Sealed: s}
	})
}

func (f *sealedFeed) eraseAccount(a events.Account, by string) {
	f.event(events.AccountSubject(a), string(a), events.AccountErased, events.AccountErasedData{Account: a, By: events.Account(by)})
	f.keys.EraseAccount(a)
}

// messagesOf is conv's first page as viewer sees it, opened by o.
func messagesOf(t *testing.T, s *Store, o Opener, conv string, viewer events.Account) map[string]api.MessageView {
	t.Helper()
	page, err := s.OpenedMessagePage(context.Background(), o, conv, viewer, Page{Limit: MaxPageSize}, afterV2)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]api.MessageView{}
	for _, m := range page.Items {
		out[m.MessageID] = m
	}
	return out
}

// inboxOf is viewer's inbox, its texts opened by o, as the query answers
// it in JSON; an error fails the test.
func inboxOf(t *testing.T, s *Store, o Opener, viewer events.Account) string {
	t.Helper()
	inbox, err := s.AppendOpenedInboxJSON(context.Background(), o, nil, viewer, Page{})
	if err != nil {
		t.Fatalf("inbox of %s: %v", viewer, err)
	}
	return string(inbox)
}

// The store holds what the events carry, sealed: no plaintext under any
// key, hist/ included; a query with the keys answers with the text, the
// edit and the reactions opened, and one without shows the sealed values.
func TestViewsHoldSealedValuesAndQueriesOpenThem(t *testing.T) {
	f := newSealedConversation(t)
	f.sendSealed("c1", "m1", alice, "plaintext-one")
	f.sendSealed("c1", "m2", alice, "plaintext-two")
	f.editSealed("c1", "m2", alice, "plaintext-edit")
	f.reactSealed("c1", "m1", carol, "plaintext-reaction")
	f.send("c1", "m3", carol, "written in clear") // history from before sealing
	s := openStore(t)
	mustApply(t, s, f.take())
	for _, kv := range dump(t, s) {
		if strings.Contains(kv, "plaintext-") {
			t.Fatalf("plaintext in the store: %s", kv)
		}
	}
	got := messagesOf(t, s, f.keys, "c1", carol)
	if m := got["m1"]; m.Text != "plaintext-one" || m.Reactions[string(carol)] != "plaintext-reaction" || m.Erased != nil {
		t.Errorf("m1 opened = %+v", m)
	}
	if m := got["m2"]; m.Text != "plaintext-edit" || !m.Edited {
		t.Errorf("m2 opened = %+v", m)
	}
	if m := got["m3"]; m.Text != "written in clear" {
		t.Errorf("m3 = %+v", m)
	}
	for _, m := range messagesOf(t, s, nil, "c1", carol) {
		if strings.Contains(m.Text, "plaintext-") || m.MessageID != "m3" && !strings.HasPrefix(m.Text, "s1.") {
			t.Errorf("without keys %s shows %q, want its sealed value", m.MessageID, m.Text)
		}
	}
	if inbox := inboxOf(t, s, f.keys, alice); !strings.Contains(inbox, `"text":"written in clear"`) {
		t.Fatalf("inbox = %s", inbox)
	}
}

// Each erasure shows: an erased account's items up to its erasure (its
// reactions dropped), an unsent message, the messages a retention rule
// expired with the policy's version, and a value whose key is gone with
// no event saying why.
func TestErasedItemsShowErased(t *testing.T) {
	f := newSealedConversation(t)
	f.sendSealed("c1", "m1", alice, "one")
	f.sendSealed("c1", "m2", carol, "two")
	f.reactSealed("c1", "m2", alice, "+1")
	f.sendSealed("c1", "m3", carol, "three")
	f.sendSealed("c1", "m4", carol, "four")
	f.sendSealed("c1", "m5", carol, "five")
	f.unsend("c1", "m4", carol)
	f.eraseAccount(alice, "admin")
	f.conv("c1", events.ContentExpired, events.ContentExpiredData{Through: 2, Before: f.now, PolicyVersion: 7})
	f.keys.Puncture(carol, "c1", 5, 5) // no event says why
	s := openStore(t)
	mustApply(t, s, f.take())
	got := messagesOf(t, s, f.keys, "c1", carol)
	want := map[string]string{"m1": api.ErasedAccount, "m2": api.ErasedRetention, "m4": api.ErasedUnsent, "m5": api.ErasedKey}
	for id, reason := range want {
		if m := got[id]; m.Erased == nil || m.Erased.Reason != reason || m.Text != "" {
			t.Errorf("%s = %+v, want erased for %s", id, m, reason)
		}
	}
	if x := got["m1"].Erased; x.By != "admin" || x.At.IsZero() {
		t.Errorf("account erasure = %+v", x)
	}
	if x := got["m2"].Erased; x.PolicyVersion != 7 {
		t.Errorf("retention erasure = %+v", x)
	}
	if x := got["m4"].Erased; x.By != string(carol) {
		t.Errorf("unsend erasure = %+v", x)
	}
	if m := got["m3"]; m.Text != "three" || m.Erased != nil || len(m.Reactions) != 0 {
		t.Errorf("m3 = %+v", m)
	}
	if inbox := inboxOf(t, s, f.keys, alice); !strings.Contains(inbox, `"reason":"key_erased"`) {
		t.Fatalf("inbox = %s", inbox)
	}
}

// An account's erasure marks the previews of its conversations in every
// participant's inbox.
func TestAccountErasureMarksPreviews(t *testing.T) {
	f := newSealedConversation(t)
	f.sendSealed("c1", "m1", alice, "last words")
	s := openStore(t)
	mustApply(t, s, f.take())
	f.eraseAccount(alice, string(alice))
	mustApply(t, s, f.take())
	if inbox := inboxOf(t, s, f.keys, carol); !strings.Contains(inbox, `"text":"","erased":{`) || !strings.Contains(inbox, `"reason":"account_erased"`) {
		t.Fatalf("inbox = %s", inbox)
	}
}

// A store rebuilt from the log after erasures, in one batch, has the
// checksum of the live one that applied them one by one: the views
// record erasures as the events say, nothing of the keys.
func TestRebuildAfterErasureHasTheLiveChecksum(t *testing.T) {
	f := newSealedConversation(t)
	f.sendSealed("c1", "m1", alice, "one")
	f.sendSealed("c1", "m2", carol, "two")
	f.reactSealed("c1", "m2", alice, "+1")
	f.unsend("c1", "m2", carol)
	f.eraseAccount(alice, "admin")
	f.sendSealed("c1", "m3", carol, "three")
	f.conv("c1", events.ContentExpired, events.ContentExpiredData{Through: 3, Before: f.now, PolicyVersion: 2})
	msgs := f.take()
	live, rebuilt := openStore(t), openStore(t)
	for _, m := range msgs {
		mustApply(t, live, []events.Message{m})
	}
	mustApply(t, rebuilt, msgs)
	a, na, err := live.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	b, nb, err := rebuilt.Checksum()
	if err != nil || a != b || na != nb {
		t.Fatalf("live %s/%d, rebuilt %s/%d, %v", a, na, b, nb, err)
	}
}

// The feeds publish the text and reaction opened; a value whose key is
// gone is published without it, marked erased, never as its ciphertext.
func TestFeedsPublishOpenedOrErased(t *testing.T) {
	f := newSealedConversation(t)
	pub := &notes{}
	s := openStoreWith(t, Options{Dir: t.TempDir(), Logger: testkit.Quiet(), Feeds: pub, Opener: f.keys,
		Now: func() time.Time { return beforeV2 }})
	f.sendSealed("c1", "m1", alice, "hello")
	f.reactSealed("c1", "m1", carol, "+1")
	f.sendSealed("c1", "m2", alice, "gone")
	f.keys.Puncture(alice, "c1", 2, 2)
	mustApply(t, s, f.take())
	got := map[string]api.Notification{}
	for _, n := range pub.got {
		if n.Viewer == carol {
			got[n.Kind+" "+n.MessageID] = n.Notification
		}
	}
	if n := got[api.NoteMessageSent+" m1"]; n.Text != "hello" || n.Erased != nil {
		t.Errorf("m1 = %+v", n)
	}
	if n := got[api.NoteMessageReacted+" m1"]; n.Reaction != "+1" || n.Erased != nil {
		t.Errorf("reaction = %+v", n)
	}
	if n := got[api.NoteMessageSent+" m2"]; n.Text != "" || n.Erased == nil || n.Erased.Reason != api.ErasedKey {
		t.Errorf("m2 = %+v", n)
	}
}
