package keyring

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/seal"
)

func newMaster(t *testing.T) *Master {
	t.Helper()
	path := filepath.Join(t.TempDir(), "master.key")
	if err := CreateMaster(path); err != nil {
		t.Fatal(err)
	}
	m, err := ReadMaster(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func openRing(ctx context.Context, t *testing.T, js jetstream.JetStream, m *Master, o Options) *Ring {
	t.Helper()
	ring, err := Open(ctx, js, m, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ring.Close() })
	return ring
}

func mustSeal(ctx context.Context, t *testing.T, r *Ring, s Scope, leaf uint32, text string) string {
	t.Helper()
	v, err := r.Seal(ctx, s, leaf, seal.AD("subj", "type", text, s.Account), text)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func opens(ctx context.Context, r *Ring, s Scope, sealed, text string) error {
	got, err := r.Open(ctx, s, seal.AD("subj", "type", text, s.Account), sealed)
	if err == nil && got != text {
		return fmt.Errorf("opened %q, want %q", got, text)
	}
	return err
}

// records is every wrapped record on subject.
func records(ctx context.Context, t *testing.T, r *Ring, subject string) [][]byte {
	t.Helper()
	msgs, err := r.onSubject(ctx, subject, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		out = append(out, m.Data)
	}
	return out
}

// An erased account's trees are gone from the stream and from the disk:
// their wrapped bytes are nowhere under the JetStream directory once the
// server stops, while another account's are (the search finds what is
// there). What the account sealed no longer opens; the other's does. An
// unsend punctures one leaf: its neighbour still opens, and the record
// that derived it is gone from the disk too.
func TestErasureLeavesNoKeyBytesOnDisk(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := natstest.Start(t)
	ring := openRing(ctx, t, srv.JetStream(t), newMaster(t), Options{})
	a1, a2, b := Scope{"instagram:ann", "c1"}, Scope{"instagram:ann", "c2"}, Scope{"messenger:bob", "c1"}
	va1, va2, vb := mustSeal(ctx, t, ring, a1, 0, "ann-1"), mustSeal(ctx, t, ring, a2, 0, "ann-2"), mustSeal(ctx, t, ring, b, 0, "bob-0")
	vb1 := mustSeal(ctx, t, ring, b, 1, "bob-1")
	gone := append(records(ctx, t, ring, a1.subject()), records(ctx, t, ring, a2.subject())...)
	bBefore := records(ctx, t, ring, b.subject())
	if n, err := ring.EraseAccount(ctx, "instagram:ann"); err != nil || n != 2 {
		t.Fatalf("erase: %d scopes, %v; want 2", n, err)
	}
	if n, err := ring.EraseAccount(ctx, "instagram:ann"); err != nil || n != 0 {
		t.Fatalf("erase again: %d scopes, %v; want 0, nil", n, err)
	}
	if err := ring.Puncture(ctx, b, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := ring.Puncture(ctx, b, 0, 0); err != nil {
		t.Fatalf("puncture again: %v", err)
	}
	for _, c := range []struct {
		s           Scope
		sealed, txt string
	}{{a1, va1, "ann-1"}, {a2, va2, "ann-2"}, {b, vb, "bob-0"}} {
		if err := opens(ctx, ring, c.s, c.sealed, c.txt); !errors.Is(err, ErrErased) {
			t.Errorf("%s after its erasure: %v, want ErrErased", c.txt, err)
		}
	}
	if err := opens(ctx, ring, b, vb1, "bob-1"); err != nil {
		t.Errorf("the neighbour of a punctured leaf: %v", err)
	}
	kept := records(ctx, t, ring, b.subject())
	if len(kept) != 1 {
		t.Fatalf("%d records of the punctured scope, want 1", len(kept))
	}
	srv.Shutdown()
	for i, w := range append(gone, bBefore...) {
		if testkit.OnDisk(t, srv.Dir(), w) {
			t.Errorf("erased record %d is still on disk", i)
		}
	}
	if !testkit.OnDisk(t, srv.Dir(), kept[0]) {
		t.Error("the kept record is not found on disk: the search proves nothing")
	}
}

// Two nodes making a scope's tree at once agree on one; an erasure on one
// node is seen by the other at once (its notice), or within CacheTTL when
// the notice is lost.
func TestRingsAgreeAndSeeEachOthersErasures(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := natstest.Start(t)
	m := newMaster(t)
	r1, r2 := openRing(ctx, t, srv.JetStream(t), m, Options{}), openRing(ctx, t, srv.JetStream(t), m, Options{})
	deaf := openRing(ctx, t, srv.JetStream(t), m, Options{CacheTTL: 50 * time.Millisecond})
	if err := deaf.Close(); err != nil { // hears no notice: the TTL alone
		t.Fatal(err)
	}
	s := Scope{"instagram:ann", "c1"}
	var wg sync.WaitGroup
	var t1, t2 *seal.Tree
	var e1, e2 error
	wg.Go(func() { t1, e1 = r1.tree(ctx, s) })
	wg.Go(func() { t2, e2 = r2.tree(ctx, s) })
	wg.Wait()
	if e1 != nil || e2 != nil || t1.ID() != t2.ID() {
		t.Fatalf("concurrent trees: %v %v, ids differ: %v", e1, e2, e1 == nil && e2 == nil)
	}
	v := mustSeal(ctx, t, r1, s, 3, "hi")
	for _, r := range []*Ring{r2, deaf} {
		if err := opens(ctx, r, s, v, "hi"); err != nil {
			t.Fatal(err)
		}
	}
	if err := r1.Puncture(ctx, s, 3, 3); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Ring{r2, deaf} {
		deadline := time.Now().Add(5 * time.Second)
		for opens(ctx, r, s, v, "hi") == nil {
			if time.Now().After(deadline) {
				t.Fatal("another ring still opens a punctured leaf after 5s")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// A key wrapped by one master key does not open with another, nor on
// another subject; a master key file others may read is refused.
func TestMasterKeyGuardsTheKeys(t *testing.T) {
	m1, m2 := newMaster(t), newMaster(t)
	w := m1.wrap([]byte("0123456789abcdef0123456789abcdef"), "crosstalk.keys.x")
	if _, err := m2.unwrap(w, "crosstalk.keys.x"); !errors.Is(err, ErrUnwrap) {
		t.Errorf("another master key: %v, want ErrUnwrap", err)
	}
	if _, err := m1.unwrap(w, "crosstalk.keys.y"); !errors.Is(err, ErrUnwrap) {
		t.Errorf("another subject: %v, want ErrUnwrap", err)
	}
	path := filepath.Join(t.TempDir(), "open.key")
	if err := CreateMaster(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMaster(path); !errors.Is(err, ErrMasterKey) {
		t.Errorf("a master key readable by others: %v, want ErrMasterKey", err)
	}
}

// A rotation rewraps every tree under the new master key, securely
// deleting the old records, and what was sealed before opens after it;
// once ended, the file holds the new key alone, and a ring with the old
// key alone opens nothing.
func TestMasterKeyRotation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := natstest.Start(t)
	path := filepath.Join(t.TempDir(), "master.key")
	if err := CreateMaster(path); err != nil {
		t.Fatal(err)
	}
	old, err := ReadMaster(path)
	if err != nil {
		t.Fatal(err)
	}
	ring := openRing(ctx, t, srv.JetStream(t), old, Options{})
	s := Scope{"instagram:ann", "c1"}
	v := mustSeal(ctx, t, ring, s, 0, "before")
	before := records(ctx, t, ring, s.subject())
	if err := BeginRotation(path); err != nil {
		t.Fatal(err)
	}
	both, err := ReadMaster(path)
	if err != nil || both.ID == old.ID || len(both.previous) != 1 {
		t.Fatalf("after BeginRotation: %v, %+v", err, both)
	}
	rotating := openRing(ctx, t, srv.JetStream(t), both, Options{})
	for want := 1; want >= 0; want-- { // again: nothing left to rewrap
		if n, err := rotating.Rewrap(ctx); err != nil || n != want {
			t.Fatalf("rewrap: %d, %v; want %d", n, err, want)
		}
	}
	if err := EndRotation(path); err != nil {
		t.Fatal(err)
	}
	fresh, err := ReadMaster(path)
	if err != nil || fresh.ID != both.ID || len(fresh.previous) != 0 {
		t.Fatalf("after EndRotation: %v, %+v", err, fresh)
	}
	if err := opens(ctx, openRing(ctx, t, srv.JetStream(t), fresh, Options{}), s, v, "before"); err != nil {
		t.Fatalf("sealed before the rotation, opened after: %v", err)
	}
	if err := opens(ctx, openRing(ctx, t, srv.JetStream(t), old, Options{}), s, v, "before"); !errors.Is(err, ErrUnwrap) {
		t.Fatalf("the old master key alone: %v, want ErrUnwrap", err)
	}
	srv.Shutdown()
	if testkit.OnDisk(t, srv.Dir(), before[0]) {
		t.Error("the record wrapped by the old master key is still on disk")
	}
}

// A ring whose master key wrapped none of the stream's trees says so
// before it is used: a node given another master key than its cluster's.
func TestCheckMasterNamesAnotherMasterKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := natstest.Start(t)
	first := openRing(ctx, t, srv.JetStream(t), newMaster(t), Options{})
	if err := first.CheckMaster(ctx); err != nil {
		t.Fatalf("a stream without trees: %v", err)
	}
	mustSeal(ctx, t, first, Scope{"instagram:ann", "c1"}, 0, "hi")
	if err := first.CheckMaster(ctx); err != nil {
		t.Fatalf("the master key that wrapped them: %v", err)
	}
	other := openRing(ctx, t, srv.JetStream(t), newMaster(t), Options{})
	if err := other.CheckMaster(ctx); !errors.Is(err, ErrMasterKey) {
		t.Fatalf("another master key: %v, want ErrMasterKey", err)
	}
}

// A keys stream that no server answers for yet (just created on a cluster,
// its replicas not yet serving it) is waited for, not taken for an error:
// serve on a cluster still forming stopped with "no responders".
func TestCheckMasterWaitsForAStreamNoServerAnswersYet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := natstest.Start(t)
	js := srv.JetStream(t)
	m := newMaster(t)
	ring := openRing(ctx, t, js, m, Options{})
	if err := js.DeleteStream(ctx, StreamName); err != nil {
		t.Fatal(err)
	}
	back := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		again, err := Open(ctx, js, m, Options{})
		if err == nil {
			err = again.Close()
		}
		back <- err
	}()
	if err := ring.CheckMaster(ctx); err != nil {
		t.Fatalf("CheckMaster: %v, want it to wait for the stream", err)
	}
	if err := <-back; err != nil {
		t.Fatal(err)
	}
}
