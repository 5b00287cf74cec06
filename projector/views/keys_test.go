package views

import (
	"bytes"
	"math"
	"slices"
	"sort"
	"testing"
	"time"
)

// TestHistKeysSortBySubjectThenSeq checks that hist/ keys sort as their
// (subject, seq) tuples, including a subject that is a prefix of another
// and sequences across byte boundaries.
func TestHistKeysSortBySubjectThenSeq(t *testing.T) {
	type tuple struct {
		subject string
		seq     uint64
	}
	tuples := []tuple{
		{"crosstalk.events.account.instagram.al", 1},
		{"crosstalk.events.account.instagram.al", 255},
		{"crosstalk.events.account.instagram.al", 256},
		{"crosstalk.events.account.instagram.al", 1 << 40},
		{"crosstalk.events.account.instagram.al-b", 2},
		{"crosstalk.events.account.instagram.al.b", 3},
		{"crosstalk.events.account.instagram.al_b", 0},
		{"crosstalk.events.conv.0192", 7},
		{"crosstalk.events.policy", 9},
	}
	want := slices.Clone(tuples)
	sort.Slice(want, func(i, j int) bool {
		if want[i].subject != want[j].subject {
			return want[i].subject < want[j].subject
		}
		return want[i].seq < want[j].seq
	})
	got := slices.Clone(tuples)
	sort.Slice(got, func(i, j int) bool {
		return bytes.Compare(HistKey(got[i].subject, got[i].seq), HistKey(got[j].subject, got[j].seq)) < 0
	})
	if !slices.Equal(got, want) {
		t.Fatalf("key order %v, want tuple order %v", got, want)
	}
	for _, tu := range tuples {
		subj, seq, ok := parseHistKey(HistKey(tu.subject, tu.seq))
		if !ok || subj != tu.subject || seq != tu.seq {
			t.Errorf("parseHistKey round trip of %v = %q %d %v", tu, subj, seq, ok)
		}
	}
}

// TestInboxKeysNewestFirst checks that an account's inbox scans newest
// activity first, ties broken by conversation id, and that a prefix scan of
// one account never reaches another whose name extends it.
func TestInboxKeysNewestFirst(t *testing.T) {
	base := time.Date(2023, 12, 13, 0, 0, 0, 0, time.UTC)
	keys := [][]byte{
		InboxKey("instagram:al", InvertTime(base), "c1"),
		InboxKey("instagram:al", InvertTime(base.Add(time.Nanosecond)), "c2"),
		InboxKey("instagram:al", InvertTime(base.Add(time.Hour)), "c3"),
		InboxKey("instagram:al", InvertTime(base.Add(time.Hour)), "c4"),
		InboxKey("instagram:al-b", InvertTime(base.Add(48*time.Hour)), "c5"),
	}
	slices.SortFunc(keys, bytes.Compare)
	var order []string
	for _, k := range keys {
		conv, ok := parseInboxSuffix(k[len(InboxPrefix("instagram:al")):])
		if bytes.HasPrefix(k, InboxPrefix("instagram:al")) && ok {
			order = append(order, conv)
		}
	}
	if want := []string{"c3", "c4", "c2", "c1"}; !slices.Equal(order, want) {
		t.Fatalf("inbox order %v, want %v", order, want)
	}
	if bytes.HasPrefix(InboxKey("instagram:al-b", 0, "c"), InboxPrefix("instagram:al")) {
		t.Fatal("inbox prefix of instagram:al matches keys of instagram:al-b")
	}
	if InvertTime(time.Unix(0, -5)) != math.MaxUint64 {
		t.Fatal("times before 1970 must map to the oldest slot")
	}
}

// TestNumberKeysSortNumerically checks msg/ and policy/ keys across byte
// boundaries, where a decimal or little-endian encoding would misorder.
func TestNumberKeysSortNumerically(t *testing.T) {
	seqs := []uint64{0, 1, 9, 10, 255, 256, 65535, 65536, 1 << 32, math.MaxUint64}
	for i := 1; i < len(seqs); i++ {
		if bytes.Compare(MsgKey("c", seqs[i-1]), MsgKey("c", seqs[i])) >= 0 {
			t.Errorf("msg key of %d does not sort before %d", seqs[i-1], seqs[i])
		}
		if bytes.Compare(PolicyKey(seqs[i-1]), PolicyKey(seqs[i])) >= 0 {
			t.Errorf("policy key of %d does not sort before %d", seqs[i-1], seqs[i])
		}
	}
	k := MsgKey("conv", 42)
	seq, ok := ParseMsgSuffix(suffix(MsgPrefix("conv"), k))
	if !ok || seq != 42 {
		t.Fatalf("ParseMsgSuffix = %d %v", seq, ok)
	}
}

// TestTablesDoNotOverlap checks that no table's prefix scan reaches another
// table whose name extends it (msg/msgid, policy/policyclosed).
func TestTablesDoNotOverlap(t *testing.T) {
	pairs := []struct {
		prefix []byte
		other  []byte
	}{
		{tablePrefix(tableMsg), MsgIDKey("c", "m")},
		{tablePrefix(tablePolicy), PolicyClosedKey(1)},
	}
	for _, p := range pairs {
		if bytes.HasPrefix(p.other, p.prefix) {
			t.Errorf("prefix %q reaches %q", p.prefix, p.other)
		}
	}
	id, ok := parseOpenKey(OpenKey("c-1"))
	if !ok || id != "c-1" {
		t.Fatalf("parseOpenKey = %q %v", id, ok)
	}
}

func TestPrefixEnd(t *testing.T) {
	cases := []struct{ in, want []byte }{
		{[]byte("ab"), []byte("ac")},
		{[]byte{'a', 0xff}, []byte("b")},
		{[]byte{0xff, 0xff}, nil},
	}
	for _, c := range cases {
		if got := prefixEnd(c.in); !bytes.Equal(got, c.want) {
			t.Errorf("prefixEnd(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// keySink keeps the keys TestEventKeysAllocateOnce builds on the heap.
var keySink []byte

// The keys Apply writes for every event are one allocation each, however
// long their texts (HistKey's subject outgrew a 64-byte key).
func TestEventKeysAllocateOnce(t *testing.T) {
	conv := "0192d6f0-7a3b-7c4d-9e5f-0123456789ab-and-a-longer-id"
	subject, long := "crosstalk.events.conv."+conv, conv+conv
	for name, f := range map[string]func(){
		"hist":  func() { keySink = HistKey(subject, 1) },
		"msg":   func() { keySink = MsgKey(conv, 1) },
		"msgid": func() { keySink = MsgIDKey(conv, conv) },
		"conv":  func() { keySink = ConvKey(long) },
		"inbox": func() { keySink = InboxKey("instagram:someone-with-a-long-handle", 1, conv) },
	} {
		if n := testing.AllocsPerRun(10, f); n != 1 {
			t.Errorf("%s key: %v allocations, want 1", name, n)
		}
	}
}
