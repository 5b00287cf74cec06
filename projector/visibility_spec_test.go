package projector

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/events"
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
// status is Presence(viewer, account, at); receipt is account's entry in
// the read_receipts of Messages(C, viewer, at) (left out without conv). A
// query's refusal prints as error <Sentinel>.
func TestVisibilitySpec(t *testing.T) {
	datadriven.Walk(t, "testdata/visibility", func(t *testing.T, path string) {
		s, f := openStore(t), newFeed(t)
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

func specSees(t *testing.T, s *Store, td *datadriven.TestData) string {
	var at, conv string
	td.ScanArgs(t, "at", &at)
	td.MaybeScanArgs(t, "conv", &conv)
	now, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatalf("%s: %v", td.Pos, err)
	}
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
