package eventlog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// Open and OpenRejections create their streams with the replication asked
// for, and check an existing stream's against it: they name each
// difference instead of rescaling the stream, and accept any replication
// when none is asked for.
func TestReplicationIsCreatedOrChecked(t *testing.T) {
	js := natstest.StartCluster(t, 3)[0].JetStream(t)
	ctx := testContext(t)
	quiet := testkit.Quiet()
	if _, err := eventlog.Open(ctx, js, eventlog.Options{Replicas: 3, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	if _, err := eventlog.OpenRejections(ctx, js, eventlog.RejectionsOptions{Replicas: 3, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{events.StreamName, events.AuditStreamName} {
		if r := replicas(t, js, name); r != 3 {
			t.Fatalf("%s created with %d replicas, want 3", name, r)
		}
	}

	// Nothing asked: the existing replication is used, and kept by the
	// rejections stream's update of its limits.
	if _, err := eventlog.Open(ctx, js, eventlog.Options{Logger: quiet}); err != nil {
		t.Errorf("Open without replicas: %v", err)
	}
	if _, err := eventlog.OpenRejections(ctx, js, eventlog.RejectionsOptions{Logger: quiet}); err != nil {
		t.Errorf("OpenRejections without replicas: %v", err)
	}
	if r := replicas(t, js, events.AuditStreamName); r != 3 {
		t.Errorf("rejections stream rescaled to %d replicas by an update", r)
	}

	// Asked otherwise: refused, each difference named.
	_, err := eventlog.Open(ctx, js, eventlog.Options{Replicas: 1, PlacementTags: []string{"ssd"}, Logger: quiet})
	wantMismatch(t, err, "it has 3 replicas, 1 were asked for", "placed by tags [], [ssd] were asked for",
		"nats stream edit CROSSTALK --replicas 1")
	_, err = eventlog.OpenRejections(ctx, js, eventlog.RejectionsOptions{Replicas: 5, Logger: quiet})
	wantMismatch(t, err, "stream "+events.AuditStreamName+": it has 3 replicas, 5 were asked for")
	if r := replicas(t, js, events.AuditStreamName); r != 3 {
		t.Errorf("rejections stream rescaled to %d replicas by a refused open", r)
	}
}

func wantMismatch(t *testing.T, err error, parts ...string) {
	t.Helper()
	if !errors.Is(err, eventlog.ErrReplicationMismatch) {
		t.Fatalf("err = %v, want ErrReplicationMismatch", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%q does not say %q", err, p)
		}
	}
}

func replicas(t *testing.T, js jetstream.JetStream, name string) int {
	t.Helper()
	st, err := js.Stream(testContext(t), name)
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo().Config.Replicas
}
