package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
)

// On a 4-partition log with events on every stream, a stopped node's
// views verify against the cluster's streams; the checksum is stable and
// is the one docs/audit.md says to recompute by hand (each stream's sum,
// then the sha256 of "<stream> <until> <sum>\n" lines); a changed hist/
// entry and a broken chain on CROSSTALK_P2 are found and named.
func TestAuditPartitionedLog(t *testing.T) {
	srv := natstest.Start(t)
	dir := t.TempDir()
	_, stop := runServe(t, "--data", dir, "--nats-url", srv.URL(), "--partitions", "4")
	nc := srv.Connect(t)
	c := client.New(nc)
	publishV1(t, c)
	for range 40 { // 40 conversations leave no partition empty but once in 25,000
		writeAndWait(t, c)
	}
	stop()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	log := openPartitioned(t, js)

	verify := []string{"audit", "verify", "--data", dir, "--nats-url", srv.URL()}
	out := auditRun(t, verify...)
	if !strings.Contains(out, "breaks: 0") || strings.Contains(out, "views checked: 0") ||
		!strings.Contains(out, "stream CROSSTALK_P3: seq 1..") || !strings.Contains(out, "stream CROSSTALK_POLICY: seq 1..1,") {
		t.Fatalf("verify of a partitioned log:\n%s", out)
	}
	sum := auditRun(t, "audit", "checksum", "--nats-url", srv.URL())
	if again := auditRun(t, "audit", "checksum", "--nats-url", srv.URL()); again != sum {
		t.Fatalf("checksum changed between runs:\n%s\n%s", sum, again)
	}
	if want := byHand(t, log); !strings.HasPrefix(sum, "sha256: "+want+"\n") {
		t.Fatalf("checksum:\n%s\nrecomputed by hand: %s", sum, want)
	}

	entry := tamperOneHistEntry(t, filepath.Join(dir, "views"))
	failsWith(t, verify, "differs_in_views", entry)
	seq := breakChainOn(t, js, log, 2)
	failsWith(t, verify, "prevhash", fmt.Sprintf("CROSSTALK_P2 seq %d", seq))
}

// failsWith runs args and expects an error and every one of want in the output.
func failsWith(t *testing.T, args []string, want ...string) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, &out, &out)
	for _, w := range want {
		if err == nil || !strings.Contains(out.String(), w) {
			t.Fatalf("%v must fail naming %q: %v\n%s", args, w, err, out.String())
		}
	}
}

// publishV1 publishes a policy, so that CROSSTALK_POLICY holds an event.
func publishV1(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	doc, err := policies.Read("v1-2020-cross-app.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishPolicy(ctx, client.PolicyCommandID(doc), json.RawMessage(doc)); err != nil {
		t.Fatal(err)
	}
}

// openPartitioned opens the 4-partition log on js and checks that no
// stream is empty.
func openPartitioned(t *testing.T, js jetstream.JetStream) *eventlog.Log {
	t.Helper()
	log, err := eventlog.OpenExisting(context.Background(), js, eventlog.Options{})
	if err != nil || log.Partitions() != 4 {
		t.Fatalf("open the log: %v", err)
	}
	for i, s := range log.Streams() {
		if last, err := s.LastSeq(context.Background()); err != nil || last == 0 {
			t.Fatalf("stream %d is empty: %v", i, err)
		}
	}
	return log
}

// byHand recomputes the checksum as docs/audit.md tells an auditor to:
// each stream's messages, in order, as seq, subject and body, each length-
// prefixed; then one line per stream.
func byHand(t *testing.T, log *eventlog.Log) string {
	t.Helper()
	var lines strings.Builder
	for _, s := range log.Streams() {
		last, _ := s.LastSeq(context.Background())
		h := sha256.New()
		for seq := uint64(1); seq <= last; seq++ {
			m, err := s.Get(context.Background(), seq)
			if err != nil {
				t.Fatal(err)
			}
			h.Write(binary.BigEndian.AppendUint64(nil, m.Seq))
			for _, part := range [][]byte{[]byte(m.Subject), m.Data} {
				h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(part))))
				h.Write(part)
			}
		}
		fmt.Fprintf(&lines, "%s %d %s\n", s.Name(), last, hex.EncodeToString(h.Sum(nil)))
	}
	sum := sha256.Sum256([]byte(lines.String()))
	return hex.EncodeToString(sum[:])
}

// breakChainOn appends to partition k's stream, as a writer bypassing
// crosstalk could, an event whose prevhash is not its predecessor's, and
// returns its sequence in that stream.
func breakChainOn(t *testing.T, js jetstream.JetStream, log *eventlog.Log, k int) uint64 {
	t.Helper()
	ctx := context.Background()
	s := log.Streams()[k]
	last, _ := s.LastSeq(ctx)
	m, err := s.Get(ctx, last)
	if err != nil {
		t.Fatal(err)
	}
	e, err := events.Decode(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	e.ID, e.StreamVersion, e.PrevHash = events.NewID(), e.StreamVersion+1, strings.Repeat("0", 64)
	body, err := events.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	physical := fmt.Sprintf("crosstalk.events.p%d.%s", k, strings.TrimPrefix(m.Subject, "crosstalk.events."))
	ack, err := js.Publish(ctx, physical, body)
	if err != nil || ack.Stream != s.Name() {
		t.Fatalf("publish into %s: %+v %v", s.Name(), ack, err)
	}
	return ack.Sequence
}
