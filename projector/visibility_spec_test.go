package projector

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// TestVisibilitySpec runs the visibility rules written as data in
// testdata/visibility: who sees whose activity status, read receipts and
// messages, at which policy. Each file drives a real store (Pebble in
// t.TempDir) through Apply, Presence and Messages; the directives are:
//
//	policy                       the input is a policy document (the JSON
//	                             of docs/policy.md), published as an event
//	----
//	policy vN in force from T
//
//	given                        events applied in order, one a line:
//	  started <conv> <account>...       (the first starts it)
//	  sent <conv> <msg> <sender>
//	  read <conv> <msg> <reader>
//	  presence <account> <status>
//	  settings <account> show_activity_status=B send_read_receipts=B
//	----
//	ok
//
//	sees at=T [conv=C]           one `viewer -> account` a line
//	----
//	viewer -> account: status=<status|hidden> [last_active] receipt=<msg|hidden|none>
//
//	clock at=T                   the feeds' clock (the policy in force for
//	                             the notes of later events); 2023-12-13T12:00:00Z at first
//	took-effect v=N at=T         PolicyTookEffect: the visibility.changed notes
//	feed                         the live feeds' visibility notes since the last feed
//	----
//	viewer: <kind> account=A ...  (presence.changed, message.read, visibility.changed)
//
// status is Presence(viewer, account, at); receipt is account's entry in
// the read_receipts of Messages(C, viewer, at) (left out without conv). A
// query's refusal prints as error <Sentinel>. The store publishes live
// feeds, so that a feed is held to the same rules as the queries.
func TestVisibilitySpec(t *testing.T) {
	datadriven.Walk(t, "testdata/visibility", func(t *testing.T, path string) {
		now := time.Date(2023, 12, 13, 12, 0, 0, 0, time.UTC)
		pub := &notes{}
		s := openStoreWith(t, Options{Dir: t.TempDir(), Logger: testkit.Quiet(), Feeds: pub,
			Now: func() time.Time { return now }})
		f := newFeed(t)
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			switch td.Cmd {
			case "policy":
				return specPolicy(t, s, f, td)
			case "given":
				for _, l := range specLines(td.Input) {
					specEvent(t, f, strings.Fields(l))
				}
				mustApply(t, s, f.take())
				return "ok"
			case "sees":
				return specSees(t, s, td)
			case "clock":
				now = specTime(t, td, "at")
				return "ok"
			case "took-effect":
				var v uint64
				td.ScanArgs(t, "v", &v)
				n, err := s.PolicyTookEffect(v, specTime(t, td, "at"))
				if err != nil {
					t.Fatalf("%s: %v", td.Pos, err)
				}
				return fmt.Sprintf("%d notes", n)
			case "feed":
				out := specNotes(pub.got)
				pub.got = nil
				return out
			}
			t.Fatalf("%s: unknown directive %q", td.Pos, td.Cmd)
			return ""
		})
	})
}

func specPolicy(t *testing.T, s *Store, f *feed, td *datadriven.TestData) string {
	p, err := aggregate.ParsePolicy([]byte(td.Input))
	if err != nil {
		t.Fatalf("%s: %v", td.Pos, err)
	}
	f.event(events.PolicySubject, "policy", events.PolicyPublished, p.Data())
	mustApply(t, s, f.take())
	return fmt.Sprintf("policy v%d in force from %s", p.Version, p.EffectiveAt.Format(time.RFC3339))
}

// specEvent appends the event of one `given` line.
func specEvent(t *testing.T, f *feed, w []string) {
	acct := func(i int) events.Account { return events.Account(w[i]) }
	switch {
	case w[0] == "started" && len(w) >= 3:
		others := make([]events.Account, 0, len(w)-3)
		for i := 3; i < len(w); i++ {
			others = append(others, acct(i))
		}
		f.start(w[1], acct(2), others...)
	case w[0] == "sent" && len(w) == 4:
		f.send(w[1], w[2], acct(3), "text of "+w[2])
	case w[0] == "read" && len(w) == 4:
		f.read(w[1], w[2], acct(3))
	case w[0] == "presence" && len(w) == 3:
		f.presence(acct(1), w[2])
	case w[0] == "settings" && len(w) == 4:
		f.settings(acct(1), specBool(t, w[2], "show_activity_status"), specBool(t, w[3], "send_read_receipts"))
	default:
		t.Fatalf("given: cannot read %q", strings.Join(w, " "))
	}
}

func specBool(t *testing.T, kv, key string) bool {
	v, ok := strings.CutPrefix(kv, key+"=")
	if !ok || (v != "true" && v != "false") {
		t.Fatalf("given settings: want %s=true|false, got %q", key, kv)
	}
	return v == "true"
}

func specTime(t *testing.T, td *datadriven.TestData, key string) time.Time {
	var at string
	td.ScanArgs(t, key, &at)
	now, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatalf("%s: %v", td.Pos, err)
	}
	return now
}

// specNotes prints the notes that carry what the visibility rules decide.
func specNotes(ns []Note) string {
	var out strings.Builder
	for _, n := range ns {
		switch n.Kind {
		case api.NotePresenceChanged:
			fmt.Fprintf(&out, "%s: %s account=%s status=%s\n", n.Viewer, n.Kind, n.Account, n.Status)
		case api.NoteMessageRead:
			fmt.Fprintf(&out, "%s: %s account=%s message_id=%s\n", n.Viewer, n.Kind, n.Account, n.MessageID)
		case api.NoteVisibilityChanged:
			fmt.Fprintf(&out, "%s: %s account=%s activity_status=%v read_receipts=%v\n", n.Viewer, n.Kind, n.Account,
				specFlag(n.ActivityStatus), specFlag(n.ReadReceipts))
		}
	}
	if out.Len() == 0 {
		return "none\n"
	}
	return out.String()
}

func specFlag(b *bool) string {
	if b == nil {
		return "-"
	}
	return fmt.Sprint(*b)
}

func specSees(t *testing.T, s *Store, td *datadriven.TestData) string {
	var conv string
	td.MaybeScanArgs(t, "conv", &conv)
	now := specTime(t, td, "at")
	var out []string
	for _, l := range specLines(td.Input) {
		from, to, ok := strings.Cut(l, "->")
		if !ok {
			t.Fatalf("%s: want `viewer -> account`, got %q", td.Pos, l)
		}
		viewer, account := events.Account(strings.TrimSpace(from)), events.Account(strings.TrimSpace(to))
		line := fmt.Sprintf("%s -> %s: %s", viewer, account, specPresence(t, s, viewer, account, now))
		if conv != "" {
			line += " " + specReceipt(t, s, conv, viewer, account, now)
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n") + "\n"
}

// specPresence prints what Presence answers; a hidden status must carry
// nothing but visible=false.
func specPresence(t *testing.T, s *Store, viewer, account events.Account, now time.Time) string {
	p, err := s.Presence(viewer, account, now)
	if err != nil {
		return "status=" + specErr(t, err)
	}
	if !p.Visible {
		if p.Status != "" || p.LastActiveAt != nil {
			t.Errorf("%s -> %s: hidden presence leaks %+v", viewer, account, p)
		}
		return "status=hidden"
	}
	out := "status=" + p.Status
	if p.LastActiveAt != nil {
		out += " last_active"
	}
	return out
}

func specReceipt(t *testing.T, s *Store, conv string, viewer, account events.Account, now time.Time) string {
	page, err := s.Messages(conv, viewer, 0, "", now)
	if err != nil {
		return "receipt=" + specErr(t, err)
	}
	if m, ok := page.ReadReceipts[string(account)]; ok {
		return "receipt=" + m
	}
	if hasReadMarker(s, conv, account) {
		return "receipt=hidden"
	}
	return "receipt=none"
}

// hasReadMarker says whether account has read anything in conv, asked as
// account itself (one's own marker is always visible).
func hasReadMarker(s *Store, conv string, account events.Account) bool {
	page, err := s.Messages(conv, account, 0, "", time.Time{})
	if err != nil {
		return false
	}
	_, ok := page.ReadReceipts[string(account)]
	return ok
}

func specErr(t *testing.T, err error) string {
	for name, sentinel := range map[string]error{
		"ErrUnknownAccount": ErrUnknownAccount, "ErrNotParticipant": ErrNotParticipant,
		"ErrConversationNotFound": ErrConversationNotFound,
	} {
		if errors.Is(err, sentinel) {
			return "error(" + name + ")"
		}
	}
	t.Fatalf("unexpected error: %v", err)
	return ""
}

// specLines returns the non-empty, non-comment lines of input.
func specLines(input string) []string {
	var out []string
	for _, l := range strings.Split(input, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
