package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// Under a generated configuration, serve --partitions 4 mirrors each of
// the log's five streams into AUDIT, and the auditor's verify and
// checksum read the five mirrors and sum what the service sums.
func TestAuditorAuditsPartitionedLog(t *testing.T) {
	addr := testkit.FreeAddr(t)
	authDir, c := runAuthInit(t, addr)
	logs := serveInBackground(t, "--data", t.TempDir(), "--partitions", "4",
		"--nats-config", filepath.Join(authDir, natsconf.ConfFile))
	url := "nats://" + addr
	app := client.New(connectAs(t, c, url, "instagram"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 20 {
		if _, err := app.Command(ctx, "instagram", "conversation.start", map[string]any{
			"command_id": uuid.NewString(), "actor": "instagram:alice", "participants": []string{"instagram:bob"},
		}); err != nil {
			t.Fatalf("the app's command: %v", err)
		}
	}
	if strings.Contains(logs.String(), "not mirrored") || strings.Contains(logs.String(), "could not be made") {
		t.Fatalf("serve did not mirror the partitioned log:\n%s", logs.String())
	}
	auditorHasMirrors(ctx, t, c, url)

	aud, err := c.Lookup(natsconf.PrincipalAuditor)
	if err != nil {
		t.Fatal(err)
	}
	asAuditor := []string{"--nats-url", url, "--user", aud.User, "--password", aud.Password, "--inbox-prefix", aud.InboxPrefix}
	out := auditRun(t, append([]string{"audit", "verify"}, asAuditor...)...)
	for _, want := range []string{"breaks: 0", "stream CROSSTALK_P0: seq 1..", "stream CROSSTALK_P3: seq 1.."} {
		if !strings.Contains(out, want) {
			t.Fatalf("verify as the auditor lacks %q:\n%s", want, out)
		}
	}
	sameAsTheService(ctx, t, c, url, asAuditor)
}

// auditorHasMirrors checks that the auditor's account holds a mirror of
// each stream of a 4-partition log, and of CROSSTALK_AUDIT, each carrying
// its origin's layout.
func auditorHasMirrors(ctx context.Context, t *testing.T, c natsconf.Config, url string) {
	t.Helper()
	js, err := jetstream.New(connectAs(t, c, url, natsconf.PrincipalAuditor))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range js.StreamNames(ctx).Name() {
		names = append(names, name)
	}
	slices.Sort(names)
	want := []string{events.AuditStreamName, "CROSSTALK_P0", "CROSSTALK_P1", "CROSSTALK_P2", "CROSSTALK_P3", eventlog.PolicyStreamName}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("the auditor's streams: %v, want %v", names, want)
	}
	p0, err := js.Stream(ctx, "CROSSTALK_P0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg := p0.CachedInfo().Config; cfg.Mirror == nil || cfg.Metadata[eventlog.MetadataPartitions] != "4" {
		t.Fatalf("the auditor's CROSSTALK_P0: mirror %v, metadata %v", cfg.Mirror, cfg.Metadata)
	}
}
