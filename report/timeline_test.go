package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"github.com/crosstalk-dev/crosstalk/clock"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
	"github.com/crosstalk-dev/crosstalk/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The fixed ids of the seed workload: with fixed command ids and a
// simulated clock, every event id and time is the same on every run.
const (
	seedCross = "018c0000-0000-7000-8000-00000000c001" // instagram:alice and messenger:bob
	seedSame  = "018c0000-0000-7000-8000-00000000c002" // messenger:bob and messenger:carol
	seedM1    = "018c0000-0000-7000-8000-0000000a0001"
	seedM2    = "018c0000-0000-7000-8000-0000000a0002"
	seedM3    = "018c0000-0000-7000-8000-0000000a0003"
	seedM4    = "018c0000-0000-7000-8000-0000000a0004"
	seedM5    = "018c0000-0000-7000-8000-0000000a0005"
	seedCall  = "018c0000-0000-7000-8000-0000000ca001"
)

// seed is the seed story played by the real service on a real
// nats-server and Pebble store: what the golden files describe.
type seed struct {
	t          *testing.T
	ctx        context.Context
	c          *client.Client
	clock      *clock.Sim
	log        *eventlog.Log
	rejections *eventlog.Rejections
	n          int // commands sent, for their fixed ids
}

// playSeed runs the service and plays the story: 2020 under v1 (chat,
// reads, presence, a reaction, an edit, a call, a settings change), v2
// published on 2023-12-12, closing on 2023-12-15 and what is refused after.
func playSeed(t *testing.T) *seed {
	n := historytest.StartUnsealedNode(t) // the golden files hold its bytes

	s := &seed{t: t, ctx: n.Ctx, c: n.C, clock: n.Clock, log: n.Log, rejections: n.Rejections}
	s.play()
	if err := s.rejections.Flush(n.Ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *seed) play() {
	s.publish("v1-2020-cross-app.json")
	s.do(historytest.Alice, "conversation.start", map[string]any{"conversation_id": seedCross, "participants": []events.Account{historytest.Bob}})
	s.do(historytest.Bob, "conversation.start", map[string]any{"conversation_id": seedSame, "participants": []events.Account{historytest.Carol}})
	s.send(historytest.Alice, seedCross, seedM1, "hey Bob")
	s.send(historytest.Bob, seedCross, seedM2, `hi Alice <3 & "friends"`)
	s.do(historytest.Bob, "message.read", map[string]any{"conversation_id": seedCross, "message_id": seedM1})
	s.do(historytest.Alice, "message.read", map[string]any{"conversation_id": seedCross, "message_id": seedM2})
	s.do(historytest.Alice, "presence.set", map[string]any{"status": "active"})
	s.do(historytest.Bob, "presence.set", map[string]any{"status": "active"})
	s.do(historytest.Bob, "message.react", map[string]any{"conversation_id": seedCross, "message_id": seedM1, "reaction": "👍"})
	s.do(historytest.Alice, "message.edit", map[string]any{"conversation_id": seedCross, "message_id": seedM1, "text": "hey Bob!"})
	s.do(historytest.Bob, "call.start", map[string]any{"conversation_id": seedCross, "media": "video", "call_id": seedCall})
	s.do(historytest.Alice, "call.end", map[string]any{"conversation_id": seedCross, "call_id": seedCall})
	s.send(historytest.Bob, seedSame, seedM3, "lunch?")
	s.do(historytest.Carol, "settings.set", map[string]any{"show_activity_status": false})

	s.clock.Set(time.Date(2023, 12, 12, 9, 0, 0, 0, time.UTC))
	s.publish("v2-2023-12-cross-app-disconnect.json")
	s.send(historytest.Alice, seedCross, seedM4, "still allowed on the 12th")

	s.clock.Set(time.Date(2023, 12, 15, 9, 0, 0, 0, time.UTC))
	s.waitApplied(2)
	s.clock.Advance(time.Hour)
	s.refused("conversation_closed", historytest.Alice, "message.send", map[string]any{"conversation_id": seedCross, "text": "hello?"})
	s.refused("cross_app_not_allowed", historytest.Alice, "conversation.start", map[string]any{"participants": []events.Account{historytest.Bob}})
	s.do(historytest.Bob, "message.read", map[string]any{"conversation_id": seedCross, "message_id": seedM4})
	s.send(historytest.Carol, seedSame, seedM5, "pong")
}

// command sends one command with the next fixed command id, a second
// after the previous one.
func (s *seed) command(actor events.Account, action string, body map[string]any) (api.CommandReply, error) {
	s.n++
	body["command_id"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", s.n)
	body["actor"] = actor
	s.clock.Advance(time.Second)
	return s.c.Command(s.ctx, string(actor.App()), action, body)
}

func (s *seed) do(actor events.Account, action string, body map[string]any) {
	s.t.Helper()
	if _, err := s.command(actor, action, body); err != nil {
		s.t.Fatalf("%s by %s: %v", action, actor, err)
	}
}

func (s *seed) send(actor events.Account, conv, id, text string) {
	s.t.Helper()
	s.do(actor, "message.send", map[string]any{"conversation_id": conv, "message_id": id, "text": text})
}

func (s *seed) refused(code string, actor events.Account, action string, body map[string]any) {
	s.t.Helper()
	if _, err := s.command(actor, action, body); client.CodeOf(err) != code {
		s.t.Fatalf("%s by %s: want %s, got %v", action, actor, code, err)
	}
}

func (s *seed) publish(file string) {
	s.t.Helper()
	data, err := policies.Read(file)
	if err != nil {
		s.t.Fatal(err)
	}
	s.n++
	if _, err := s.c.PublishPolicy(s.ctx, fmt.Sprintf("00000000-0000-4000-8000-%012d", s.n), json.RawMessage(data)); err != nil {
		s.t.Fatalf("publish %s: %v", file, err)
	}
}

// waitApplied waits until the closer has applied policy version v; the
// clock stands still meanwhile, so the closings have a fixed time.
func (s *seed) waitApplied(v uint64) {
	s.t.Helper()
	testkit.WaitPolicyApplied(s.t, func() (api.PolicyReport, error) {
		var rep api.PolicyReport
		err := s.c.Query(s.ctx, "policy", map[string]any{}, &rep)
		return rep, err
	}, v)
}

// golden compares got with testdata/name byte for byte, or rewrites the
// file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -run %s -update to write it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test ./report -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// indented is JSON as the CLI prints it with --json.
func indented(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// text renders with one of the WriteText methods.
func text(t *testing.T, write func(io.Writer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSeedGolden plays the seed story once and checks every audit answer
// about it against the golden files.
func TestSeedGolden(t *testing.T) {
	s := playSeed(t)
	t.Run("timeline", func(t *testing.T) { testTimelineGolden(t, s) })
	t.Run("html", func(t *testing.T) { testTimelineHTML(t, s) })
	t.Run("visibility", func(t *testing.T) { testVisibilityGolden(t, s) })
	t.Run("policy", func(t *testing.T) { testPolicyGolden(t, s) })
}

func testTimelineGolden(t *testing.T, s *seed) {
	conv, err := report.ConversationTimeline(s.ctx, s.log, seedCross)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "timeline_conversation.golden", text(t, conv.WriteText))
	golden(t, "timeline_conversation.json.golden", indented(t, conv))
	acct, err := report.AccountTimeline(s.ctx, s.log, historytest.Bob)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "timeline_account.golden", text(t, acct.WriteText))
	golden(t, "timeline_account.json.golden", indented(t, acct))

	last := conv.Entries[len(conv.Entries)-2]
	if last.Type != events.ConversationClosed || last.Actor != "policy" || last.Change != "closed by policy v2" {
		t.Errorf("the closing, then bob's read after it: %+v", conv.Entries[len(conv.Entries)-2:])
	}
	if len(acct.Conversations) != 2 || len(acct.Entries) <= len(conv.Entries) {
		t.Errorf("bob's timeline covers his account and both conversations: %+v", acct.Conversations)
	}
}

func testTimelineHTML(t *testing.T, s *seed) {
	conv, err := report.ConversationTimeline(s.ctx, s.log, seedCross)
	if err != nil {
		t.Fatal(err)
	}
	page := text(t, conv.WriteHTML)
	texts, classes := parseHTML(t, page)
	for _, e := range conv.Entries {
		if !strings.Contains(texts, e.Change) {
			t.Errorf("the page lacks event seq %d: %q", e.Seq, e.Change)
		}
	}
	if classes["boundary"] != 1 || classes["closed"] != 1 {
		t.Errorf("want one policy boundary and one closed row, got %v", classes)
	}
	if !strings.Contains(texts, "policy boundary: v1 → v2 cross-app-disconnect-2023-12") {
		t.Errorf("the boundary row does not name the policy:\n%s", texts)
	}
	if bytes.Contains(page, []byte(`<3 & "friends"`)) || !bytes.Contains(page, []byte("&lt;3 &amp;")) {
		t.Errorf("message text is not escaped")
	}
}

// parseHTML parses the page as lenient XML, as browsers read HTML, fails
// on a reference to anything outside the page, and returns its text and a
// count of the class attributes of its rows.
func parseHTML(t *testing.T, page []byte) (string, map[string]int) {
	t.Helper()
	if !bytes.HasPrefix(page, []byte("<!DOCTYPE html>")) {
		t.Errorf("no doctype: %.40s", page)
	}
	for _, bad := range []string{"http:", "https:", "//", "<script", "<link", "<img", "src=", "href=", "url("} {
		if bytes.Contains(page, []byte(bad)) {
			t.Errorf("the page refers to something outside it: %q", bad)
		}
	}
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	var texts strings.Builder
	classes := map[string]int{}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return texts.String(), classes
		}
		if err != nil {
			t.Fatalf("the page does not parse: %v", err)
		}
		switch x := tok.(type) {
		case xml.CharData:
			texts.Write(x)
		case xml.StartElement:
			for _, a := range x.Attr {
				if x.Name.Local == "tr" && a.Name.Local == "class" {
					classes[a.Value]++
				}
			}
		}
	}
}

// A conversation's timeline is its subject only; an account's adds its own
// subject and its conversations, not others'. A body that is not an event
// is listed, not skipped.
func TestTimelineSubjects(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	forged := f.Raw(events.ConversationSubject(historytest.Conv1), []byte("not an event"))

	conv, err := report.ConversationTimeline(f.Ctx, f.Log, historytest.Conv1)
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(conv); got != "2 4 5 "+fmt.Sprint(forged) {
		t.Errorf("conversation timeline seqs %s", got)
	}
	if e := conv.Entries[3]; e.Type != report.Undecodable || !strings.Contains(e.Change, "malformed event") {
		t.Errorf("forged entry: %+v", e)
	}
	if len(conv.Policies) != 1 || conv.Policies[0].Version != 1 {
		t.Errorf("policies: %+v", conv.Policies)
	}
	acct, err := report.AccountTimeline(f.Ctx, f.Log, historytest.Alice)
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(acct); got != "2 4 5 6 8 "+fmt.Sprint(forged) {
		t.Errorf("alice's timeline seqs %s (not bob and carol's conversation)", got)
	}
	for _, bad := range []func() error{
		func() error {
			_, err := report.ConversationTimeline(f.Ctx, f.Log, historytest.Conv1[:35]+"9")
			return err
		},
		func() error { _, err := report.AccountTimeline(f.Ctx, f.Log, "instagram:nobody"); return err },
	} {
		if err := bad(); err == nil || !strings.Contains(err.Error(), "has no events") {
			t.Errorf("a timeline of nothing: %v", err)
		}
	}
}

func seqs(tl report.Timeline) string {
	var s []string
	for _, e := range tl.Entries {
		s = append(s, fmt.Sprint(e.Seq))
	}
	return strings.Join(s, " ")
}

func TestShortType(t *testing.T) {
	for in, want := range map[events.Type]string{
		events.MessageSent: "message.sent", events.ConversationClosed: "conversation.closed", report.Undecodable: "undecodable",
	} {
		if got := report.ShortType(in); got != want {
			t.Errorf("ShortType(%s) = %s, want %s", in, got, want)
		}
	}
}

// What a message says cannot become markup in the page.
func TestTimelineHTMLEscapes(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	f.Send(historytest.Conv1, historytest.Alice, `</td><script src="https://evil.example/x.js"></script>`)
	tl, err := report.ConversationTimeline(f.Ctx, f.Log, historytest.Conv1)
	if err != nil {
		t.Fatal(err)
	}
	page := text(t, tl.WriteHTML)
	if bytes.Contains(page, []byte("<script")) || bytes.Contains(page, []byte("</td><script")) {
		t.Fatalf("the page carries the message's markup:\n%s", page)
	}
	if !bytes.Contains(page, []byte("&lt;script")) {
		t.Errorf("the message text is missing from the page")
	}
}
