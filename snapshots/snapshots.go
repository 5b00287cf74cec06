// Package snapshots keeps what lets a long conversation load in bounded
// time and memory (docs/architecture.md, "Snapshots and message records"):
// each conversation's latest snapshot (aggregate.Conversation.Snapshot),
// and the record of each message that left its memory
// (aggregate.MessageRecord), in the JetStream KV bucket CROSSTALK_SNAPSHOTS.
// It stores bytes; what they mean, and the check of a snapshot against the
// log before it is trusted, are the command side's.
package snapshots

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the KV bucket of snapshots and message records.
const Bucket = "CROSSTALK_SNAPSHOTS"

// keepTimeout bounds one Keep's wait for the bucket's acknowledgements.
const keepTimeout = 5 * time.Second

// Options place the bucket when it is created, as the event log's streams
// are (node Options.Replicas, PlacementTags). An existing bucket is used as
// it is. The zero value is usable: 1 replica, no tags.
type Options struct {
	Replicas      int
	PlacementTags []string
}

// Store is the bucket. Build it with Open.
type Store struct {
	js jetstream.JetStream
	kv jetstream.KeyValue
}

// Open opens the bucket, creating it as o places it if missing.
func Open(ctx context.Context, js jetstream.JetStream, o Options) (*Store, error) {
	kv, err := js.KeyValue(ctx, Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		cfg := jetstream.KeyValueConfig{Bucket: Bucket, History: 1, Storage: jetstream.FileStorage,
			Description: "crosstalk: conversation snapshots and the records of messages out of memory",
			Replicas:    max(o.Replicas, 1)}
		if len(o.PlacementTags) > 0 {
			cfg.Placement = &jetstream.Placement{Tags: slices.Clone(o.PlacementTags)}
		}
		kv, err = js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, Bucket) // another node made it meanwhile
		}
	}
	if err != nil {
		return nil, fmt.Errorf("snapshots bucket %s: %w", Bucket, err)
	}
	return &Store{js: js, kv: kv}, nil
}

// snapshotKey and recordKey name a conversation's snapshot and one of its
// message records; both ids are UUIDs, valid KV tokens.
func snapshotKey(conv string) string    { return "c." + conv }
func recordKey(conv, msg string) string { return "m." + conv + "." + msg }

// Snapshot is conversation conv's latest snapshot; ok is false when it has
// none.
func (s *Store) Snapshot(ctx context.Context, conv string) (data []byte, ok bool, err error) {
	return s.get(ctx, snapshotKey(conv))
}

// Record is the record of message msg of conversation conv; ok is false
// when none is kept.
func (s *Store) Record(ctx context.Context, conv, msg string) (data []byte, ok bool, err error) {
	return s.get(ctx, recordKey(conv, msg))
}

func (s *Store) get(ctx context.Context, key string) ([]byte, bool, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return e.Value(), true, nil
}

// Keep stores conversation conv's message records (by message id), waits
// until the bucket has acknowledged every one, and only then stores its
// snapshot (when not nil) and waits for that: a snapshot never counts on a
// record the bucket may not have.
func (s *Store) Keep(ctx context.Context, conv string, records map[string][]byte, snapshot []byte) error {
	ctx, cancel := context.WithTimeout(ctx, keepTimeout)
	defer cancel()
	futures := make([]jetstream.PubAckFuture, 0, len(records))
	for msg, data := range records {
		f, err := s.js.PublishAsync("$KV."+Bucket+"."+recordKey(conv, msg), data)
		if err != nil {
			return err
		}
		futures = append(futures, f)
	}
	if err := await(ctx, futures); err != nil {
		return fmt.Errorf("keep %d message records of %s: %w", len(records), conv, err)
	}
	if snapshot == nil {
		return nil
	}
	if _, err := s.kv.Put(ctx, snapshotKey(conv), snapshot); err != nil {
		return fmt.Errorf("keep the snapshot of %s: %w", conv, err)
	}
	return nil
}

func await(ctx context.Context, futures []jetstream.PubAckFuture) error {
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
