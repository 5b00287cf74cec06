package eventlog_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// openPartitioned opens a log of n partitions on a fresh server.
func openPartitioned(t *testing.T, n int, signer *events.Signer) (*natstest.Server, *eventlog.Log) {
	t.Helper()
	srv := natstest.Start(t)
	l, err := eventlog.Open(testContext(t), srv.JetStream(t), eventlog.Options{Partitions: n, Signer: signer})
	if err != nil {
		t.Fatalf("Open(%d partitions): %v", n, err)
	}
	return srv, l
}

func TestPartitionedOpenCreatesProtectedStreams(t *testing.T) {
	srv, l := openPartitioned(t, 4, nil)
	want := []string{"CROSSTALK_P0", "CROSSTALK_P1", "CROSSTALK_P2", "CROSSTALK_P3", eventlog.PolicyStreamName}
	if l.Partitions() != 4 || len(l.Streams()) != len(want) {
		t.Fatalf("partitions %d, streams %d", l.Partitions(), len(l.Streams()))
	}
	for i, p := range l.Streams() {
		cfg := p.Stream().CachedInfo().Config
		k := strconv.Itoa(i)
		if i == 4 {
			k = "policy"
		}
		if cfg.Name != want[i] || cfg.Metadata[eventlog.MetadataPartitions] != "4" || cfg.Metadata[eventlog.MetadataPartition] != k {
			t.Errorf("stream %d: name %s metadata %v", i, cfg.Name, cfg.Metadata)
		}
		if !cfg.DenyDelete || !cfg.DenyPurge || cfg.Storage != jetstream.FileStorage || !cfg.AllowDirect ||
			cfg.Duplicates != eventlog.DefaultDuplicates || cfg.MaxMsgs != -1 {
			t.Errorf("stream %s is not protected as CROSSTALK: %+v", cfg.Name, cfg)
		}
	}
	if _, err := srv.JetStream(t).Stream(testContext(t), events.StreamName); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("a partitioned log also created %s: %v", events.StreamName, err)
	}
}

// Commands on many conversations spread over every partition; each keeps
// its OCC, its duplicate window and its signature on the logical subject,
// and the policy goes to CROSSTALK_POLICY.
func TestPartitionedAppendsSpreadAndKeepTheirChecks(t *testing.T) {
	s := testkit.Signer(t)
	_, l := openPartitioned(t, 4, s)
	ctx := testContext(t)
	keys := events.NewPublicKeys(s.PublicKey())
	for i := range 40 {
		if _, _, err := l.Append(ctx, conv(i), 0, "c"+strconv.Itoa(i), []byte("one")); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := l.Append(ctx, events.PolicySubject, 0, "p1", []byte("policy")); err != nil {
		t.Fatal(err)
	}
	for _, p := range l.Streams() {
		info, err := p.Info(ctx)
		if err != nil || info.State.Msgs == 0 {
			t.Errorf("stream %s holds no message (%v)", p.Name(), err)
		}
	}
	if n := mustInfo(t, l.Streams()[4]).State.Msgs; n != 1 {
		t.Errorf("policy stream holds %d messages, want 1", n)
	}
	seq, dup, err := l.Append(ctx, conv(7), 0, "c7", []byte("one"))
	if err != nil || !dup {
		t.Errorf("retry of c7 = %d dup %v %v, want a duplicate", seq, dup, err)
	}
	if _, _, err := l.Append(ctx, conv(7), 0, "other", []byte("two")); !errors.Is(err, eventlog.ErrConflict) {
		t.Errorf("append on a stale sequence: %v, want ErrConflict", err)
	}
	msgs, err := l.Load(ctx, conv(7), 0)
	if err != nil || len(msgs) != 1 || msgs[0].Subject != conv(7) || msgs[0].Seq != seq {
		t.Fatalf("Load = %+v %v", msgs, err)
	}
	if _, err := keys.Verify(msgs[0].Subject, msgs[0].Data, msgs[0].Signature); err != nil {
		t.Errorf("signature over the stored subject: %v", err)
	}
	if _, _, err := l.Append(ctx, conv(7), seq, "c7b", []byte("two")); err != nil {
		t.Errorf("append after the loaded sequence: %v", err)
	}
	owner := l.StreamOf(conv(7))
	if owner.Name() != eventlog.PartitionStreamName(eventlog.PartitionOf(conv(7), 4)) {
		t.Errorf("conv 7 routed to %s", owner.Name())
	}
	if m, err := owner.Get(ctx, seq); err != nil || m.Subject != conv(7) {
		t.Errorf("Get on its stream = %+v %v", m, err)
	}
}

func mustInfo(t *testing.T, l *eventlog.Log) *jetstream.StreamInfo {
	t.Helper()
	info, err := l.Info(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// AppendAll routes each entry to its stream.
func TestPartitionedAppendAll(t *testing.T) {
	_, l := openPartitioned(t, 3, nil)
	var entries []eventlog.Entry
	for i := range 12 {
		entries = append(entries, eventlog.Entry{Subject: conv(i), MsgID: "m" + strconv.Itoa(i), Data: []byte("x")})
	}
	for i, r := range l.AppendAll(testContext(t), entries) {
		if r.Err != nil || r.Seq == 0 {
			t.Errorf("entry %d: %+v", i, r)
		}
	}
	var total uint64
	for _, p := range l.Streams() {
		total += mustInfo(t, p).State.Msgs
	}
	if total != 12 {
		t.Errorf("streams hold %d messages, want 12", total)
	}
}

// A whole-log position means nothing on a partitioned log: asking for one
// is an error, never one stream's answer.
func TestPartitionedLogRefusesWholeLogPositions(t *testing.T) {
	_, l := openPartitioned(t, 2, nil)
	ctx := testContext(t)
	if _, err := l.LastSeq(ctx); !errors.Is(err, eventlog.ErrPartitioned) {
		t.Errorf("LastSeq: %v", err)
	}
	if _, err := l.Get(ctx, 1); !errors.Is(err, eventlog.ErrPartitioned) {
		t.Errorf("Get: %v", err)
	}
	if err := l.Read(ctx, 0, 10, nil); !errors.Is(err, eventlog.ErrPartitioned) {
		t.Errorf("Read: %v", err)
	}
}

// A restart learns N from the streams; a different N is refused, both ways.
func TestPartitionsAreFixedWhenCreated(t *testing.T) {
	srv, l := openPartitioned(t, 4, nil)
	ctx := testContext(t)
	js := srv.JetStream(t)
	again, err := eventlog.Open(ctx, js, eventlog.Options{})
	if err != nil || again.Partitions() != 4 {
		t.Fatalf("reopen with 0: %d partitions, %v", again.Partitions(), err)
	}
	if _, _, err := again.Append(ctx, conv(1), 0, "", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if m, err := l.Load(ctx, conv(1), 0); err != nil || len(m) != 1 {
		t.Errorf("the first Log does not see the reopened one's append: %v %v", m, err)
	}
	for _, n := range []int{1, 2, 8} {
		if _, err := eventlog.Open(ctx, js, eventlog.Options{Partitions: n}); !errors.Is(err, eventlog.ErrPartitionsMismatch) {
			t.Errorf("Open(%d) on a 4-partition log: %v", n, err)
		}
	}
	r, err := eventlog.OpenExisting(ctx, js, eventlog.Options{})
	if err != nil || r.Partitions() != 4 {
		t.Errorf("OpenExisting: %v", err)
	}
	single := newFixture(t)
	if _, err := eventlog.Open(ctx, single.js, eventlog.Options{Partitions: 4}); !errors.Is(err, eventlog.ErrPartitionsMismatch) {
		t.Errorf("Open(4) on CROSSTALK: %v", err)
	}
	if l1, err := eventlog.Open(ctx, single.js, eventlog.Options{Partitions: 1}); err != nil || l1.Name() != events.StreamName {
		t.Errorf("Open(1) on CROSSTALK: %v", err)
	}
}

// A partition stream edited under the service is found by CheckConfig,
// named, and refuses the appends routed to it; Open refuses it too.
func TestPartitionMisconfiguredIsNamed(t *testing.T) {
	srv, l := openPartitioned(t, 2, nil)
	ctx := testContext(t)
	js := srv.JetStream(t)
	p1 := l.Streams()[1]
	cfg := p1.Stream().CachedInfo().Config
	cfg.MaxMsgs = 3
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	err := l.CheckConfig(ctx)
	if !errors.Is(err, eventlog.ErrStreamMisconfigured) || !strings.Contains(err.Error(), p1.Name()) {
		t.Fatalf("CheckConfig: %v", err)
	}
	var in1 string
	for i := 0; in1 == ""; i++ {
		if eventlog.PartitionOf(conv(i), 2) == 1 {
			in1 = conv(i)
		}
	}
	if _, _, err := l.Append(ctx, in1, 0, "", []byte("x")); !errors.Is(err, eventlog.ErrStreamMisconfigured) {
		t.Errorf("append to %s on a misconfigured partition: %v", in1, err)
	}
	if _, err := eventlog.Open(ctx, js, eventlog.Options{}); !errors.Is(err, eventlog.ErrStreamMisconfigured) {
		t.Errorf("Open: %v", err)
	}
}
