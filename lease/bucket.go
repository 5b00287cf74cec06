package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
)

// bucketConfig is the leases bucket: the last value of each key only, on
// file, placed as o asks.
func bucketConfig(o Options) jetstream.KeyValueConfig {
	cfg := jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "crosstalk: who runs each singleton (closer, intake); docs/reliability.md",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(o.Replicas, 1),
	}
	if len(o.PlacementTags) > 0 {
		cfg.Placement = &jetstream.Placement{Tags: slices.Clone(o.PlacementTags)}
	}
	return cfg
}

// ensureBucket opens the leases bucket, creating it if missing.
func ensureBucket(ctx context.Context, js jetstream.JetStream, o Options) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, Bucket)
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return kv, err
	}
	kv, err = js.CreateKeyValue(ctx, bucketConfig(o))
	if errors.Is(err, jetstream.ErrBucketExists) { // another node created it meanwhile
		return js.KeyValue(ctx, Bucket)
	}
	return kv, err
}

// Holders reads who holds each lease: every key of the bucket that is not
// released. A lease whose holder died stays listed until another node
// takes it; its Revision then stops changing. No bucket, no holders.
func Holders(ctx context.Context, js jetstream.JetStream) (map[string]Holder, error) {
	out := map[string]Holder{}
	kv, err := js.KeyValue(ctx, Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return out, nil
	} else if err != nil {
		return nil, err
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	for key := range keys.Keys() {
		e, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // released meanwhile
		} else if err != nil {
			return nil, err
		}
		h, err := decode(e)
		if err != nil {
			return nil, err
		}
		out[key] = h
	}
	return out, nil
}

// decode reads the holder out of an entry of the bucket.
func decode(e jetstream.KeyValueEntry) (Holder, error) {
	var v value
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return Holder{}, fmt.Errorf("lease %s at revision %d: %w", e.Key(), e.Revision(), err)
	}
	if v.Term == 0 { // written at acquisition, before the term was known
		v.Term = e.Revision()
	}
	return Holder{Node: v.Node, Term: v.Term, Since: v.Since, Revision: e.Revision()}, nil
}
