package natsconf

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/intake"
)

// auditWorld is a server under the generated configuration with the
// service's three streams, a few events in each, the projector's durable
// consumer, and the auditor's mirrors made by the service.
type auditWorld struct {
	c       Config
	url     string
	svc     jetstream.JetStream
	auditor *nats.Conn
	aud     jetstream.JetStream
	denied  chan error
}

func newAuditWorld(t *testing.T, ctx context.Context) *auditWorld {
	t.Helper()
	c, url := startServer(t)
	w := &auditWorld{c: c, url: url, denied: make(chan error, 16)}
	svcConn := connectAs(t, c, url, PrincipalService)
	w.svc = newJS(t, svcConn)
	log, err := eventlog.Open(ctx, w.svc, eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventlog.OpenRejections(ctx, w.svc, eventlog.RejectionsOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.CreateStream(ctx, jetstream.StreamConfig{Name: intake.AppStream("instagram"),
		Subjects: intake.AppSubjects("instagram")}); err != nil {
		t.Fatal(err)
	}
	for i, subject := range []string{events.AccountSubject("instagram:alice"), events.ConversationSubject("c1")} {
		if _, _, err := log.Append(ctx, subject, 0, "", []byte(`{"n":`+string(rune('1'+i))+`}`)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.svc.Publish(ctx, "crosstalk.audit.instagram.refused", []byte(`{"refused":1}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.CreateOrUpdateConsumer(ctx, events.StreamName, jetstream.ConsumerConfig{Durable: "projector"}); err != nil {
		t.Fatal(err)
	}
	created, err := EnsureMirrors(ctx, svcConn)
	if want := []string{events.StreamName, events.AuditStreamName}; err != nil || !slices.Equal(created, want) {
		t.Fatalf("EnsureMirrors: %v, %v; want %v", created, err, want)
	}
	if again, err := EnsureMirrors(ctx, svcConn); err != nil || len(again) != 0 {
		t.Fatalf("EnsureMirrors again: %v, %v; want nothing made", again, err)
	}
	aud, _ := c.Lookup(PrincipalAuditor)
	w.auditor, err = nats.Connect(url, nats.UserInfo(aud.User, aud.Password), nats.CustomInboxPrefix(aud.InboxPrefix),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				select {
				case w.denied <- err:
				default:
				}
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.auditor.Close)
	w.aud = newJS(t, w.auditor)
	return w
}

func newJS(t *testing.T, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// messages returns every message of stream name in js, by sequence.
func messages(ctx context.Context, t *testing.T, js jetstream.JetStream, name string) []string {
	t.Helper()
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	var out []string
	for seq := uint64(1); seq <= s.CachedInfo().State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("%s seq %d: %v", name, seq, err)
		}
		out = append(out, m.Subject+" "+string(m.Data))
	}
	return out
}

// caughtUp waits until the auditor's copy of name holds what the service's
// stream holds, message for message under the same sequences.
func (w *auditWorld) caughtUp(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	want := messages(ctx, t, w.svc, name)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := messages(ctx, t, w.aud, name)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the auditor's copy of %s:\n%q\nwant the service's:\n%q", name, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The auditor reads copies of CROSSTALK and CROSSTALK_AUDIT equal to the
// service's, and sees no other stream: not an intake stream.
func TestAuditorReadsCopiesOfTheHistory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := newAuditWorld(t, ctx)
	single := []string{events.StreamName, events.AuditStreamName}
	for _, name := range single {
		w.caughtUp(ctx, t, name)
	}
	log, err := eventlog.OpenExisting(ctx, w.aud, eventlog.Options{})
	if err != nil {
		t.Fatalf("the auditor opens its copy as the log: %v", err)
	}
	if last, err := log.LastSeq(ctx); err != nil || last != 2 {
		t.Errorf("the copy's last seq: %d, %v; want 2", last, err)
	}
	var names []string
	for n := range w.aud.StreamNames(ctx).Name() {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, single) {
		t.Errorf("the auditor's streams: %v, want %v only", names, single)
	}
	short, stop := context.WithTimeout(ctx, time.Second)
	defer stop()
	if _, err := w.aud.Stream(short, intake.AppStream("instagram")); err == nil {
		t.Errorf("the auditor opened %s", intake.AppStream("instagram"))
	}
	w.expectDenied(t, "the intake's stream info")
}

// A consumer the auditor creates delivers to no one outside its account:
// one that names Bob's live feed does not reach Bob, and the service's
// stream cannot be reached for another.
func TestAuditorCannotDeliverToAnotherSubject(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := newAuditWorld(t, ctx)
	w.caughtUp(ctx, t, events.StreamName)
	bob, _ := feedSub(t, w.c, w.url, "messenger:bob", api.FeedSubject("messenger:bob"))

	feed := api.FeedSubject("messenger:bob")
	_, err := w.aud.CreateConsumer(ctx, events.StreamName, jetstream.ConsumerConfig{Durable: "leak"})
	if err != nil {
		t.Fatalf("the auditor's own consumer on its copy: %v", err)
	}
	req := `{"stream_name":"CROSSTALK","config":{"name":"push","deliver_subject":"` + feed + `","deliver_policy":"all","ack_policy":"none"}}`
	if r, err := w.auditor.Request("$JS.API.CONSUMER.CREATE.CROSSTALK.push", []byte(req), time.Second); err != nil || bytes.Contains(r.Data, []byte(`"error"`)) {
		t.Fatalf("a push consumer on its own copy: %v %s", err, replyOf(r))
	}
	if _, err := w.auditor.Request(ServiceAPIPrefix+".CONSUMER.CREATE.CROSSTALK", []byte(req), time.Second); err == nil {
		t.Error("the auditor reached the service's consumer create")
	}
	w.expectDenied(t, "a consumer on the service's stream")
	select {
	case m := <-bob:
		t.Fatalf("Bob's feed received %q from the auditor's consumer", m.Data)
	case <-time.After(time.Second):
	}
	cons, err := w.svc.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	for name := range cons.ConsumerNames(ctx).Name() {
		if name != "projector" && !strings.HasPrefix(name, "JS_MIRROR_") {
			t.Errorf("the service's stream has a consumer %q besides the projector's and the mirror's", name)
		}
	}
}

// expectDenied waits for NATS to refuse the auditor a publish.
func (w *auditWorld) expectDenied(t *testing.T, what string) {
	t.Helper()
	select {
	case <-w.denied:
	case <-time.After(2 * time.Second):
		t.Errorf("%s: NATS did not refuse the auditor", what)
	}
}

// The auditor cannot delete the projector's consumer, nor make, change,
// purge or delete a stream: not even a mirror of its own, whose
// configuration would choose where the service's account delivers it.
func TestAuditorChangesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := newAuditWorld(t, ctx)
	_, _ = w.auditor.Request("$JS.API.CONSUMER.DELETE.CROSSTALK.projector", nil, time.Second)
	if _, err := w.svc.Consumer(ctx, events.StreamName, "projector"); err != nil {
		t.Fatalf("the projector's consumer after the auditor's delete: %v", err)
	}
	leak := MirrorConfig(events.StreamName)
	leak.Name, leak.Mirror.External.DeliverPrefix = "LEAK", api.FeedPrefix+"messenger"
	short, stop := context.WithTimeout(ctx, time.Second)
	defer stop()
	if _, err := w.aud.CreateStream(short, leak); err == nil {
		t.Error("the auditor created a mirror delivering under crosstalk.feed.messenger")
	}
	w.expectDenied(t, "create a stream")
	for _, subject := range []string{"$JS.API.STREAM.DELETE.CROSSTALK", "$JS.API.STREAM.PURGE.CROSSTALK",
		"$JS.API.STREAM.UPDATE.CROSSTALK", "$JS.API.STREAM.MSG.DELETE.CROSSTALK", "$JS.FC.CROSSTALK.x.y"} {
		if err := w.auditor.Publish(subject, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		w.expectDenied(t, subject)
	}
	if _, err := w.aud.Stream(ctx, events.StreamName); err != nil {
		t.Errorf("the auditor's copy after its refused delete: %v", err)
	}
}

// A command published to the intake, and fetched by the service, never
// reaches the auditor, whatever reply subject it listens on.
func TestAuditorSeesNoIntakeCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := newAuditWorld(t, ctx)
	seen := make(chan *nats.Msg, 16)
	if _, err := w.auditor.ChanSubscribe("_INBOX.>", seen); err != nil {
		t.Fatal(err)
	}
	if err := w.auditor.Flush(); err != nil {
		t.Fatal(err)
	}
	secret := []byte(`{"text":"undecided"}`)
	if _, err := w.svc.Publish(ctx, api.IntakeSubject("instagram", "message.send"), secret); err != nil {
		t.Fatal(err)
	}
	cons, err := w.svc.CreateOrUpdateConsumer(ctx, intake.AppStream("instagram"), jetstream.ConsumerConfig{Durable: "intake"})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if !bytes.Equal(m.Data(), secret) {
			t.Fatalf("the service fetched %q", m.Data())
		}
	}
	deadline := time.After(time.Second)
	for {
		select {
		case m := <-seen:
			if bytes.Contains(m.Data, []byte("undecided")) {
				t.Fatalf("the auditor saw the undecided command on %s", m.Subject)
			}
		case <-deadline:
			return
		}
	}
}
