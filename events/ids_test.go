package events

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/uuid"
)

func millis(t *testing.T, id string) int64 {
	t.Helper()
	u, err := uuid.Parse(id)
	if err != nil {
		t.Fatalf("%q: %v", id, err)
	}
	if u.Version() != 7 || u.Variant() != uuid.RFC4122 {
		t.Fatalf("%q is version %d variant %v, want 7 RFC4122", id, u.Version(), u.Variant())
	}
	return int64(binary.BigEndian.Uint64(append([]byte{0, 0}, u[:6]...)))
}

func TestDerivedID(t *testing.T) {
	id := DerivedID(testNow, "command\x00subject")
	if !ValidUUID(id) {
		t.Fatalf("%q is not a UUID", id)
	}
	if ms := millis(t, id); ms != testNow.UnixMilli() {
		t.Errorf("timestamp %d ms, want %d", ms, testNow.UnixMilli())
	}
	if again := DerivedID(testNow, "command\x00subject"); again != id {
		t.Errorf("not deterministic: %s then %s", id, again)
	}
	// The same instant in another zone is the same instant.
	if utc := DerivedID(testNow.UTC(), "command\x00subject"); utc != id {
		t.Errorf("zone changed the id: %s vs %s", id, utc)
	}
	if other := DerivedID(testNow, "command\x00other"); other == id {
		t.Errorf("different seeds gave the same id %s", id)
	} else if other[:13] != id[:13] {
		t.Errorf("same instant, different timestamp: %s vs %s", id, other)
	}
	// Sub-millisecond differences share a timestamp; ids sort by time.
	later := DerivedID(testNow.Add(time.Millisecond), "command\x00subject")
	if millis(t, later) != testNow.UnixMilli()+1 || later <= id {
		t.Errorf("a millisecond later: %s after %s", later, id)
	}
	if DerivedID(testNow.Add(time.Microsecond), "s") != DerivedID(testNow, "s") {
		t.Error("a microsecond changed the id")
	}
}

func TestNewID(t *testing.T) {
	a, b := NewID(), NewID()
	if a == b {
		t.Fatalf("NewID twice gave %s", a)
	}
	before := time.Now().UnixMilli()
	if ms := millis(t, NewID()); ms < before-1000 || ms > before+1000 {
		t.Errorf("NewID timestamp %d is not now (%d)", ms, before)
	}
}

func TestValidUUID(t *testing.T) {
	for s, ok := range map[string]bool{
		"0190c2d4-0000-7000-8000-000000000001":          true,
		"0190C2D4-0000-7000-8000-00000000000A":          false, // an uppercase twin
		"0190c2d4-0000-7000-8000-00000000000A":          false,
		"0190c2d4-0000-7000-8000_000000000001":          false,
		"0190c2d4-0000-7000-8000-0000000000-1":          false,
		"00000000-0000-0000-0000-000000000000":          true,
		"0190c2d4000070008000000000000001":              false, // not canonical
		"{0190c2d4-0000-7000-8000-000000000001}":        false,
		"urn:uuid:0190c2d4-0000-7000-8000-000000000001": false,
		"0190c2d4-0000-7000-8000-00000000000g":          false,
		"":                                              false,
		"m1":                                            false,
	} {
		if got := ValidUUID(s); got != ok {
			t.Errorf("ValidUUID(%q) = %t, want %t", s, got, ok)
		}
	}
}

func TestDerivedFrom(t *testing.T) {
	id := DerivedID(testNow, "command\x00subject")
	if of := DerivedIDOf(testNow, []byte("command\x00subject")); of != id {
		t.Errorf("DerivedIDOf gave %s, DerivedID %s", of, id)
	}
	if !DerivedFrom(id, "command\x00subject") {
		t.Errorf("%s is not derived from its own seed", id)
	}
	if !DerivedFrom(DerivedID(testNow.Add(time.Hour), "s"), "s") {
		t.Error("another instant hid the seed")
	}
	for _, other := range []string{"command\x00other", "", "command"} {
		if DerivedFrom(id, other) {
			t.Errorf("%s is derived from %q too", id, other)
		}
	}
	if DerivedFrom("", "s") || DerivedFrom(id[:35], "command\x00subject") {
		t.Error("a short id matched")
	}
}
