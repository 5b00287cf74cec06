package keyring

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Rotating the master key (docs/operations.md, "Rotating the master key")
// is three steps, each safe to stop after and to run again:
//
//  1. BeginRotation writes a new key in front of the file's: the file now
//     wraps with the new key and still opens what the old one wrapped.
//  2. Ring.Rewrap, on a Ring opened with that file, stores every tree
//     again under the new key and securely deletes the old records.
//  3. EndRotation drops the old keys from the file, once Rewrap left
//     nothing they wrapped.

// BeginRotation puts a new random master key first in the file at path,
// keeping the ones there after it.
func BeginRotation(path string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh) // crypto/rand.Read never fails
	return replaceFile(path, hex.EncodeToString(fresh)+"\n"+string(old))
}

// EndRotation keeps only the first key of the file at path.
func EndRotation(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.Fields(string(b))
	if len(lines) == 0 {
		return fmt.Errorf("%w: %s is empty", ErrMasterKey, path)
	}
	return replaceFile(path, lines[0]+"\n")
}

// replaceFile writes data to path through a file beside it, renamed over
// it, so that a crash leaves the old file or the new one, never half.
func replaceFile(path, data string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".master-key-*")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(data)
	err = errors.Join(err, tmp.Sync(), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path) // CreateTemp made it 0600
	}
	if err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	return nil
}

// Rewrap stores every scope's tree again under the ring's master key
// where an older key wrapped it, securely deleting the old record, and
// returns how many it rewrapped.
func (r *Ring) Rewrap(ctx context.Context) (int, error) {
	info, err := r.stream.Info(ctx, jetstream.WithSubjectFilter(subjectPrefix+"*"))
	if err != nil {
		return 0, fmt.Errorf("keys: list the scopes: %w", err)
	}
	n := 0
	for subject := range info.State.Subjects {
		done, err := r.rewrapOne(ctx, subject)
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	return n, nil
}

// rewrapOne rewraps subject's tree if an older key wrapped it.
func (r *Ring) rewrapOne(ctx context.Context, subject string) (bool, error) {
	m, err := r.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if id, err := wrappedBy(m.Data, len(r.master.ID)); err != nil || id == r.master.ID {
		return false, err
	}
	c, err := r.read(ctx, subject)
	if err != nil || c.tree == nil {
		return false, err
	}
	seq, err := r.store(ctx, subject, c.tree, c.seq)
	if err != nil {
		return false, fmt.Errorf("keys: rewrap: %w", err)
	}
	return true, r.deleteBefore(ctx, subject, seq)
}

// CheckMaster reports ErrMasterKey when the stream holds a tree that
// neither the ring's master key nor a previous one wrapped: a node started
// with another master key than its cluster's would make trees of its own
// and open none of the others'. A stream without trees passes.
func (r *Ring) CheckMaster(ctx context.Context) error {
	m, err := r.firstTree(ctx)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("keys: check the master key: %w", err)
	}
	id, err := wrappedBy(m.Data, len(r.master.ID))
	if err != nil || r.master.opener(id) != nil {
		return err
	}
	return fmt.Errorf("%w: the keys in %s are wrapped by master key %s, this node's is %s: give every node the same master key file "+
		"(copy the first node's DIR/master.key, or serve --master-key FILE)", ErrMasterKey, StreamName, id, r.master.ID)
}

// answerWait bounds how long CheckMaster waits for a keys stream no server
// answers for yet: one just created on a cluster, before its replicas
// serve it (found by docs/operations.md's guide run).
const answerWait = 30 * time.Second

// firstTree reads the stream's first tree record, retrying while no server
// answers for the stream (nats.ErrNoResponders), up to answerWait.
func (r *Ring) firstTree(ctx context.Context) (*jetstream.RawStreamMsg, error) {
	deadline := time.Now().Add(answerWait)
	for pause := 20 * time.Millisecond; ; pause = min(2*pause, 500*time.Millisecond) {
		m, err := r.stream.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(subjectPrefix+"*"))
		if !errors.Is(err, nats.ErrNoResponders) || time.Now().After(deadline) {
			return m, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(pause):
		}
	}
}
