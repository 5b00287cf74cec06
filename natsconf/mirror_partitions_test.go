package natsconf

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
)

// The service mirrors each stream of a partitioned log into AUDIT, with
// its layout's metadata, and the auditor opens the mirrors as that log:
// four partitions, each mirror holding its partition's events under the
// logical subjects. A log of more partitions than the configuration names
// is refused with ErrNotMirrored, making nothing.
func TestAuditorOpensMirrorsOfAPartitionedLog(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, url := startServer(t)
	svcConn := connectAs(t, c, url, PrincipalService)
	svc := newJS(t, svcConn)
	log, err := eventlog.Open(ctx, svc, eventlog.Options{Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventlog.OpenRejections(ctx, svc, eventlog.RejectionsOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, subject := range []string{events.ConversationSubject("c1"), events.ConversationSubject("c2"),
		events.AccountSubject("instagram:alice"), events.PolicySubject} {
		if _, _, err := log.Append(ctx, subject, 0, "", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := EnsureMirrors(ctx, svcConn, "CROSSTALK_P16"); !errors.Is(err, ErrNotMirrored) {
		t.Fatalf("EnsureMirrors of a 17th partition: %v, want ErrNotMirrored", err)
	}
	created, err := EnsureMirrors(ctx, svcConn, log.StreamNames()...)
	if want := append(log.StreamNames(), events.AuditStreamName); err != nil || !slices.Equal(created, want) {
		t.Fatalf("EnsureMirrors: %v, %v; want %v", created, err, want)
	}
	w := &auditWorld{svc: svc, aud: newJS(t, connectAs(t, c, url, PrincipalAuditor))}
	for _, name := range log.StreamNames() {
		w.caughtUp(ctx, t, name)
	}
	copied, err := eventlog.OpenExisting(ctx, w.aud, eventlog.Options{})
	if err != nil {
		t.Fatalf("the auditor opens its copies as the log: %v", err)
	}
	if copied.Partitions() != 4 || !slices.Equal(copied.StreamNames(), log.StreamNames()) {
		t.Fatalf("the copies open as %d partitions %v, want 4 %v", copied.Partitions(), copied.StreamNames(), log.StreamNames())
	}
	want, _ := log.LastSeqs(ctx)
	if got, err := copied.LastSeqs(ctx); err != nil || !slices.Equal(got, want) {
		t.Fatalf("the copies' last seqs: %v, %v; want %v", got, err, want)
	}
}

// On a server with no AUDIT account (development mode), a log the
// configuration could not mirror is reported as having no auditor, not as
// a misconfiguration to warn of.
func TestNoAuditAccountBeforeNotMirrored(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := natstest.Start(t)
	_, err := EnsureMirrors(ctx, srv.Connect(t), "CROSSTALK_P16")
	if !errors.Is(err, ErrNoAuditAccount) {
		t.Fatalf("EnsureMirrors without AUDIT: %v, want ErrNoAuditAccount", err)
	}
}
