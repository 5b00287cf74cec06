package sealtest

import (
	"context"
	"errors"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/seal"
)

// A value opens with its envelope's associated data, and no longer once
// its leaf is punctured or its account's trees erased; another leaf and
// another account's scope still open.
func TestTreesSealOpenAndErase(t *testing.T) {
	trees := New()
	ctx := context.Background()
	seal1 := func(a events.Account, leaf uint32) (string, []byte) {
		v, err := trees.Seal(a, "c1", leaf, events.MessageSent, "e1", "hi")
		if err != nil {
			t.Fatal(err)
		}
		return v, seal.AD(events.ConversationSubject("c1"), string(events.MessageSent), "e1", string(a))
	}
	v1, ad1 := seal1("x:alice", 1)
	v2, ad2 := seal1("x:alice", 2)
	vb, adb := seal1("x:bob", 1)
	if got, err := trees.Open(ctx, "x:alice", "c1", ad1, v1); err != nil || got != "hi" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := trees.Open(ctx, "x:alice", "c1", adb, v1); err == nil {
		t.Fatal("opened with another envelope's associated data")
	}
	trees.Puncture("x:alice", "c1", 1, 1)
	if _, err := trees.Open(ctx, "x:alice", "c1", ad1, v1); !errors.Is(err, seal.ErrErased) {
		t.Fatalf("punctured leaf: %v", err)
	}
	if _, err := trees.Open(ctx, "x:alice", "c1", ad2, v2); err != nil {
		t.Fatalf("another leaf: %v", err)
	}
	trees.EraseAccount("x:alice")
	if _, err := trees.Open(ctx, "x:alice", "c1", ad2, v2); !errors.Is(err, seal.ErrErased) {
		t.Fatalf("erased account: %v", err)
	}
	if _, err := trees.Open(ctx, "x:bob", "c1", adb, vb); err != nil {
		t.Fatalf("another account: %v", err)
	}
}
