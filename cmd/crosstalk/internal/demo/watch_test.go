package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, testkit.ServerLeaks...) }

// The demo with Watch prints a nats CLI command, waits for it, and the
// subscriber it names, connected with exactly the printed server, user and
// password (as messenger:bob, under the enforced identities), receives on
// bob's feed, in order: Alice's message while v1 is in force, her activity
// status, then the closing of the cross-app conversation by v2 and the
// notice that her status and read receipts are hidden; and after the
// closing none of her status or read receipts.
func TestWatchShowsBobsFeedAsTheStoryRuns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	out := newLines()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Listen: "127.0.0.1:0", Logger: testkit.Quiet(), Out: out, Watch: string(seed.Bob)})
		out.Close()
	}()
	returned := false
	t.Cleanup(func() { // a test that failed early must not leave the demo waiting
		cancel()
		if !returned {
			<-done
		}
	})
	cmd := out.waitFor(t, "nats sub ")
	notes := subscribeAsPrinted(t, cmd)
	err := <-done
	returned = true
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.text())
	}
	all := notes.all()
	checkBobsFeed(t, all)
	// The README's try-out ends its nats sub with --count 14.
	if len(all) != 14 {
		t.Errorf("bob's feed had %d notifications, the README says 14: update its --count and its sample: %+v", len(all), all)
	}
}

// subscribeAsPrinted subscribes as the printed nats sub command says:
// nats sub 'SUBJECT' -s URL --user=USER --password=PASSWORD.
func subscribeAsPrinted(t *testing.T, cmd string) *received {
	t.Helper()
	f := strings.Fields(cmd)
	if len(f) != 7 || f[0] != "nats" || f[1] != "sub" || f[3] != "-s" {
		t.Fatalf("unexpected command %q", cmd)
	}
	subject := strings.Trim(f[2], "'")
	if want := api.FeedSubject(string(seed.Bob)); subject != want {
		t.Fatalf("the command watches %s, want %s", subject, want)
	}
	nc, err := nats.Connect(f[4], nats.UserInfo(strings.TrimPrefix(f[5], "--user="), strings.TrimPrefix(f[6], "--password=")))
	if err != nil {
		t.Fatalf("connect as printed: %v", err)
	}
	t.Cleanup(nc.Close)
	r := &received{}
	if _, err := nc.Subscribe(subject, r.add(t)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return r
}

// checkBobsFeed checks the notifications the issue lists, in order, and
// that the feed counts without a gap.
func checkBobsFeed(t *testing.T, notes []api.Notification) {
	t.Helper()
	alice := string(seed.Alice)
	want := []struct {
		what string
		is   func(api.Notification) bool
	}{
		{"Alice's message", func(n api.Notification) bool { return n.Kind == api.NoteMessageSent && n.Account == alice }},
		{"Alice's activity status", func(n api.Notification) bool { return n.Kind == api.NotePresenceChanged && n.Account == alice }},
		{"the closing by v2", func(n api.Notification) bool {
			return n.Kind == api.NoteConversationClosed && n.PolicyVersion == 2 && n.Reason != ""
		}},
		{"Alice's status hidden", func(n api.Notification) bool {
			return n.Kind == api.NoteVisibilityChanged && n.Account == alice && n.PolicyVersion == 2 &&
				n.ActivityStatus != nil && !*n.ActivityStatus
		}},
	}
	next, closedAt := 0, -1
	for i, n := range notes {
		if n.N != uint64(i+1) {
			t.Errorf("notification %d counts n=%d: %+v", i+1, n.N, n)
		}
		if next < len(want) && want[next].is(n) {
			if n.Kind == api.NoteConversationClosed {
				closedAt = i
			}
			next++
		}
		if closedAt >= 0 && i > closedAt && n.Account == alice && (n.Kind == api.NotePresenceChanged || n.Kind == api.NoteMessageRead) {
			t.Errorf("after v2 bob's feed shows %s of %s: %+v", n.Kind, alice, n)
		}
	}
	if next < len(want) {
		t.Errorf("bob's feed never showed %s (in order) among %d notifications: %+v", want[next].what, len(notes), notes)
	}
}

// received collects the notifications of a subscription.
type received struct {
	mu    sync.Mutex
	notes []api.Notification
}

func (r *received) add(t *testing.T) nats.MsgHandler {
	return func(m *nats.Msg) {
		var n api.Notification
		if err := json.Unmarshal(m.Data, &n); err != nil {
			t.Errorf("notification %q: %v", m.Data, err)
		}
		r.mu.Lock()
		r.notes = append(r.notes, n)
		r.mu.Unlock()
	}
}

func (r *received) all() []api.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]api.Notification(nil), r.notes...)
}

// lines is the demo's output, readable line by line while it runs.
type lines struct {
	pw   *io.PipeWriter
	mu   sync.Mutex
	all  []string
	news chan string
}

func newLines() *lines {
	pr, pw := io.Pipe()
	l := &lines{pw: pw, news: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			l.mu.Lock()
			l.all = append(l.all, sc.Text())
			l.mu.Unlock()
			l.news <- sc.Text()
		}
		close(l.news)
	}()
	return l
}

func (l *lines) Write(p []byte) (int, error) { return l.pw.Write(p) }

// Close ends the output.
func (l *lines) Close() { l.pw.Close() }

// waitFor returns the first line that contains s, trimmed.
func (l *lines) waitFor(t *testing.T, s string) string {
	t.Helper()
	for line := range l.news {
		if strings.Contains(line, s) {
			go func() { // keep reading, so that the demo never blocks on its output
				for range l.news {
				}
			}()
			return strings.TrimSpace(line)
		}
	}
	t.Fatalf("the demo never printed %q:\n%s", s, l.text())
	return ""
}

func (l *lines) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.all, "\n")
}
