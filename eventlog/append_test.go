package eventlog_test

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
)

func TestAppendWithExpectedSequence(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)

	first, dup, err := f.log.Append(ctx, conv(1), 0, "cmd-1", []byte("a"))
	if err != nil || dup || first != 1 {
		t.Fatalf("first append = %d, dup %v, %v; want 1", first, dup, err)
	}
	_, _, err = f.log.Append(ctx, conv(1), 0, "cmd-2", []byte("b"))
	if !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("second append with expected 0 = %v, want ErrConflict", err)
	}
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence {
		t.Errorf("conflict does not wrap the JetStream error: %v", err)
	}
	// Another subject's appends do not move conv(1)'s sequence.
	other := f.mustAppend(t, conv(2), 0, "x")
	second, dup, err := f.log.Append(ctx, conv(1), first, "cmd-2", []byte("b"))
	if err != nil || dup || second != other+1 {
		t.Fatalf("append with the right seq = %d, dup %v, %v; want %d", second, dup, err, other+1)
	}
	if _, _, err := f.log.Append(ctx, conv(1), other, "cmd-3", []byte("c")); !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("append expecting another subject's seq = %v, want ErrConflict", err)
	}
}

func TestAppendRetryIsDuplicate(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	f.mustAppend(t, conv(9), 0, "elsewhere")
	seq, _, err := f.log.Append(ctx, conv(1), 0, "cmd-1", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	// The same command again, with the same (now stale) expected sequence,
	// as a producer retrying after a lost reply sends it.
	again, dup, err := f.log.Append(ctx, conv(1), 0, "cmd-1", []byte("a"))
	if err != nil || !dup || again != seq {
		t.Fatalf("retry = %d, dup %v, %v; want %d, true", again, dup, err, seq)
	}
	// The same command id with the current expected sequence.
	again, dup, err = f.log.Append(ctx, conv(1), seq, "cmd-1", []byte("a"))
	if err != nil || !dup || again != seq {
		t.Fatalf("retry with current seq = %d, dup %v, %v; want %d, true", again, dup, err, seq)
	}
	// Neither retry stored anything, and a probe stores nothing either.
	if _, _, err := f.log.Append(ctx, conv(1), seq, "cmd-2", []byte("b")); err != nil {
		t.Fatalf("next command: %v", err)
	}
	if _, _, err := f.log.Append(ctx, conv(1), 0, "cmd-3", []byte("c")); !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("stale new command = %v, want ErrConflict", err)
	}
	if last, _ := f.log.LastSeq(ctx); last != seq+1 {
		t.Fatalf("last seq %d, want %d", last, seq+1)
	}
}

// TestJetStreamChecksSequenceBeforeDuplicates pins the server behaviour that
// Append works around: on a one-replica stream a retried publish with a stale
// expected subject sequence is refused as "wrong last sequence", although its
// Nats-Msg-Id is in the duplicate window.
func TestJetStreamChecksSequenceBeforeDuplicates(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	opts := []jetstream.PublishOpt{jetstream.WithMsgID("cmd-1"), jetstream.WithExpectLastSequencePerSubject(0)}
	if _, err := f.js.Publish(ctx, conv(1), []byte("a"), opts...); err != nil {
		t.Fatal(err)
	}
	_, err := f.js.Publish(ctx, conv(1), []byte("a"), opts...)
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence {
		t.Fatalf("raw retry = %v; the server now reports duplicates first, and Append's probe can go", err)
	}
}

func TestAppendWithoutMsgIDIsNotDeduplicated(t *testing.T) {
	f := newFixture(t)
	a := f.mustAppend(t, conv(1), 0, "same")
	b := f.mustAppend(t, conv(1), a, "same")
	if a == b {
		t.Fatalf("two appends without msg id share seq %d", a)
	}
}

func TestAppendRejectsForeignSubject(t *testing.T) {
	f := newFixture(t)
	for _, subject := range []string{"crosstalk.cmd.instagram.message.send", "crosstalk.events", ""} {
		if _, _, err := f.log.Append(testContext(t), subject, 0, "x", []byte("a")); err == nil {
			t.Errorf("Append to %q succeeded", subject)
		}
	}
}
