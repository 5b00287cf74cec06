package keyring

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/internal/natstest"
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

// onDisk reports whether b is in any file under dir.
func onDisk(t *testing.T, dir string, b []byte) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found {
			return err
		}
		data, err := os.ReadFile(path)
		found = found || err == nil && bytes.Contains(data, b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// An erased scope's key is gone from the stream and from the disk: its
// wrapped bytes are nowhere under the JetStream directory once the server
// stops, while another scope's are (the search finds what is there). No
// data key is ever on disk unwrapped.
func TestErasedKeyLeavesNoBytesOnDisk(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := natstest.Start(t)
	js := srv.JetStream(t)
	ring, err := Open(ctx, js, newMaster(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := Scope{"instagram:ann", "c1"}, Scope{"messenger:bob", "c1"}
	ka, err := ring.Key(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := ring.Key(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := ring.Key(ctx, a); err != nil || !bytes.Equal(again, ka) {
		t.Fatalf("the key of a scope asked again: %x, %v; want %x", again, err, ka)
	}
	wa, _ := ring.stream.GetLastMsgForSubject(ctx, a.subject())
	wb, _ := ring.stream.GetLastMsgForSubject(ctx, b.subject())
	if err := ring.Erase(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := ring.Lookup(ctx, a); !errors.Is(err, ErrErased) {
		t.Errorf("lookup after erase: %v, want ErrErased", err)
	}
	if k, err := ring.Lookup(ctx, b); err != nil || !bytes.Equal(k, kb) {
		t.Errorf("the other scope's key after the erase: %x, %v", k, err)
	}
	srv.Shutdown()
	dir := srv.Dir()
	if onDisk(t, dir, wa.Data) {
		t.Error("the erased key's wrapped bytes are still on disk")
	}
	if !onDisk(t, dir, wb.Data) {
		t.Error("the kept key's wrapped bytes are not found on disk: the search proves nothing")
	}
	if onDisk(t, dir, ka) || onDisk(t, dir, kb) {
		t.Error("a data key is on disk unwrapped")
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
