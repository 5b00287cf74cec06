package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
)

// recompute is the checksum as an auditor would write it from the doc
// comment of audit.Checksum alone.
func recompute(msgs []events.Message) string {
	var buf bytes.Buffer
	for _, m := range msgs {
		_ = binary.Write(&buf, binary.BigEndian, m.Seq)
		_ = binary.Write(&buf, binary.BigEndian, uint64(len(m.Subject)))
		buf.WriteString(m.Subject)
		_ = binary.Write(&buf, binary.BigEndian, uint64(len(m.Data)))
		buf.Write(m.Data)
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:])
}

func TestChecksumOfAnEmptyLog(t *testing.T) {
	f := historytest.NewFixture(t)
	got := f.Checksum(0)
	want := sha256.Sum256(nil)
	if got != (audit.Sum{Hex: hex.EncodeToString(want[:])}) {
		t.Fatalf("empty log: %+v", got)
	}
}

func TestChecksumIsDeterministicAndDocumented(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	msgs := f.Messages()
	last := f.LastSeq()

	first, again := f.Checksum(0), f.Checksum(last)
	if first != again || first.Events != last || first.UntilSeq != last {
		t.Fatalf("two checksums of the same history: %+v and %+v", first, again)
	}
	if want := recompute(msgs); first.Hex != want {
		t.Fatalf("checksum %s, recomputed from the documented format %s", first.Hex, want)
	}
	// Every covered field counts: a changed byte, subject or sequence gives
	// another sum.
	for name, change := range map[string]func([]events.Message){
		"data":    func(m []events.Message) { m[3].Data[len(m[3].Data)-2] ^= 1 },
		"subject": func(m []events.Message) { m[3].Subject = m[2].Subject },
		"seq":     func(m []events.Message) { m[3].Seq, m[4].Seq = m[4].Seq, m[3].Seq },
		"removed": func(m []events.Message) { copy(m[3:], m[4:]); m[len(m)-1] = events.Message{} },
	} {
		changed := clone(msgs)
		change(changed)
		if recompute(changed) == first.Hex {
			t.Errorf("changing the %s of one message must change the sum", name)
		}
	}
}

func TestChecksumUntilSeqIgnoresLaterEvents(t *testing.T) {
	f := historytest.NewFixture(t)
	f.Story()
	pre := f.LastSeq()
	before := f.Checksum(0)
	mid := f.Checksum(pre - 2)
	if mid.Events != pre-2 || mid.UntilSeq != pre-2 || mid.Hex != recompute(f.Messages()[:pre-2]) || mid.Hex == before.Hex {
		t.Fatalf("checksum until seq %d: %+v (whole log: %+v)", pre-2, mid, before)
	}

	f.Send(historytest.Conv1, historytest.Alice, "later")
	f.Presence(historytest.Bob, events.StatusActive)
	if got := f.Checksum(pre); got != before {
		t.Fatalf("appending changed the checksum until seq %d: %+v, was %+v", pre, got, before)
	}
	if got := f.Checksum(0); got.Hex == before.Hex || got.UntilSeq != pre+2 || got.Events != pre+2 {
		t.Fatalf("the whole log grew, so must its checksum: %+v", got)
	}
	if _, err := audit.Checksum(f.Ctx, f.Log, pre+3); err == nil {
		t.Fatal("a checksum past the stream's end must be an error")
	}
}

// benchLog writes n events: a policy, then conversations of 100 events each
// between alternating apps.
func benchLog(b *testing.B, n int) *historytest.Fixture {
	f := historytest.NewFixture(b)
	f.Policy(1, f.Now, true)
	for i := 1; i < n; {
		id := fmt.Sprintf("0192a000-0000-7000-8000-%012d", i)
		f.Start(id, historytest.Alice, historytest.Bob)
		i++
		for j := 0; j < 99 && i < n; j++ {
			f.Send(id, historytest.Alice, "a message of a usual length, about as long as people write them")
			i++
		}
	}
	return f
}

const benchEvents = 10_000

func BenchmarkVerify(b *testing.B) {
	f := benchLog(b, benchEvents)
	views := f.Project()
	for _, bc := range []struct {
		name  string
		views audit.Views
	}{{"jetstream", nil}, {"with-views", views}} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				rep, err := audit.Verify(f.Ctx, f.Log, bc.views)
				if err != nil || !rep.OK() || rep.Events != benchEvents {
					b.Fatalf("Verify: %+v, %v", rep, err)
				}
			}
			b.ReportMetric(float64(benchEvents*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func BenchmarkChecksum(b *testing.B) {
	f := benchLog(b, benchEvents)
	b.ResetTimer()
	for range b.N {
		s, err := audit.Checksum(f.Ctx, f.Log, 0)
		if err != nil || s.Events != benchEvents {
			b.Fatalf("Checksum: %+v, %v", s, err)
		}
	}
	b.ReportMetric(float64(benchEvents*b.N)/b.Elapsed().Seconds(), "events/s")
}
