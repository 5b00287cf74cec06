package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/report"
)

// A timeline of events that record their authenticated principal shows it
// beside the claimed actor, in text and HTML; one without shows no such
// column (the golden files of development mode's history are unchanged).
func TestTimelineShowsPrincipal(t *testing.T) {
	at := time.Date(2023, 12, 15, 0, 0, 0, 0, time.UTC)
	tl := report.Timeline{Conversation: "c1", Entries: []report.TimelineEntry{
		{Seq: 1, Time: at, Subject: "c1", Type: events.MessageSent, Actor: "instagram:alice",
			Principal: "instagram/instagram:alice", PolicyVersion: 2, Change: `sent m1 "hi"`},
		{Seq: 2, Time: at, Subject: "c1", Type: events.ConversationClosed, Actor: "policy",
			Principal: "service", PolicyVersion: 2, Change: "closed by policy v2"},
		{Seq: 3, Time: at, Subject: "c1", Type: events.MessageRead, Actor: "messenger:bob", PolicyVersion: 2, Change: "read up to m1"},
	}}
	var text bytes.Buffer
	if err := tl.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(text.String(), "\n")
	if !strings.Contains(lines[1], "ACTOR            PRINCIPAL") ||
		!strings.Contains(lines[2], "instagram:alice  instagram/instagram:alice  message.sent") ||
		!strings.Contains(lines[3], "policy           service") ||
		!strings.Contains(lines[4], "messenger:bob    -  ") {
		t.Fatalf("text timeline:\n%s", text.String())
	}
	var html bytes.Buffer
	if err := tl.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), "<th>principal</th>") || !strings.Contains(html.String(), "<td>instagram/instagram:alice</td>") {
		t.Fatalf("html timeline has no principal column:\n%s", html.String())
	}

	for i := range tl.Entries {
		tl.Entries[i].Principal = ""
	}
	text.Reset()
	html.Reset()
	if err := tl.WriteText(&text); err != nil || strings.Contains(text.String(), "PRINCIPAL") {
		t.Fatalf("a timeline without principals has a PRINCIPAL column: %v\n%s", err, text.String())
	}
	if err := tl.WriteHTML(&html); err != nil || strings.Contains(html.String(), "principal") {
		t.Fatalf("an HTML timeline without principals has a principal column: %v", err)
	}
}
