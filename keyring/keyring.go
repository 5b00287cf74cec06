// Package keyring keeps the data keys that seal personal content
// (docs/erasure.md): one per scope, an account's writing in one
// conversation, wrapped by the master key (Master) and stored in the
// stream CROSSTALK_KEYS, one subject per scope. Erasing a scope deletes
// its key with JetStream's secure delete, which overwrites the message's
// bytes on disk, so that what the key sealed can never be opened again,
// in the log or in any backup of it.
package keyring

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamName is the stream of the wrapped data keys.
const StreamName = "CROSSTALK_KEYS"

// subjectPrefix is the subjects of StreamName: one per scope.
const subjectPrefix = "crosstalk.keys."

// ErrErased reports a scope whose key was erased, or never made: what it
// sealed cannot be opened.
var ErrErased = errors.New("keyring: no key: erased")

// Scope is what one data key seals: what Account wrote in Conversation.
type Scope struct {
	Account      string
	Conversation string
}

// subject is the scope's subject: a hash of it, so that no account name
// needs to be a subject token and the stream's subjects name no one.
func (s Scope) subject() string {
	sum := sha256.Sum256([]byte(s.Account + "\x00" + s.Conversation))
	return subjectPrefix + hex.EncodeToString(sum[:16])
}

// Options place the stream when it is created, as the event log's are.
// The zero value is usable: 1 replica, no tags.
type Options struct {
	Replicas      int
	PlacementTags []string
}

// Ring is the data keys, opened by the master key. Build it with Open.
type Ring struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	master *Master
}

// Open opens the keys' stream, creating it as o places it if missing.
func Open(ctx context.Context, js jetstream.JetStream, master *Master, o Options) (*Ring, error) {
	cfg := jetstream.StreamConfig{Name: StreamName, Subjects: []string{subjectPrefix + ">"},
		Description: "crosstalk: data keys of sealed content, wrapped by the master key",
		Storage:     jetstream.FileStorage, Replicas: max(o.Replicas, 1), AllowDirect: true}
	if len(o.PlacementTags) > 0 {
		cfg.Placement = &jetstream.Placement{Tags: slices.Clone(o.PlacementTags)}
	}
	s, err := js.Stream(ctx, StreamName)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("keys stream %s: %w", StreamName, err)
	}
	return &Ring{js: js, stream: s, master: master}, nil
}

// Key returns the data key of scope, making it if it has none yet. Two
// nodes making one at once agree: the second append expects the subject
// empty, fails, and reads the first.
func (r *Ring) Key(ctx context.Context, scope Scope) ([]byte, error) {
	key, err := r.Lookup(ctx, scope)
	if !errors.Is(err, ErrErased) {
		return key, err
	}
	key = make([]byte, 32)
	_, _ = rand.Read(key)
	subject := scope.subject()
	_, err = r.js.Publish(ctx, subject, r.master.wrap(key, subject), jetstream.WithExpectLastSequencePerSubject(0))
	if err == nil {
		return key, nil
	}
	if k, lerr := r.Lookup(ctx, scope); lerr == nil {
		return k, nil
	}
	return nil, fmt.Errorf("make the key of a scope: %w", err)
}

// Lookup returns the data key of scope, or ErrErased when it has none.
func (r *Ring) Lookup(ctx context.Context, scope Scope) ([]byte, error) {
	subject := scope.subject()
	m, err := r.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, ErrErased
	}
	if err != nil {
		return nil, err
	}
	return r.master.unwrap(m.Data, subject)
}

// Erase deletes scope's key for good: every message on its subject is
// overwritten on disk (secure delete) and removed. Erasing a scope without
// a key does nothing.
func (r *Ring) Erase(ctx context.Context, scope Scope) error {
	subject := scope.subject()
	for {
		m, err := r.stream.GetLastMsgForSubject(ctx, subject)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := r.stream.SecureDeleteMsg(ctx, m.Sequence); err != nil {
			return fmt.Errorf("erase the key of a scope: %w", err)
		}
	}
}
