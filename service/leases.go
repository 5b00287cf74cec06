package service

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
)

// leasesBucket is the KV bucket of the singletons' leases (package lease
// acquires and renews them; the status only reads them).
const leasesBucket = "CROSSTALK_LEASES"

// leaseNames are the singletons that hold a lease.
var leaseNames = []string{api.RoleCloser, api.RoleIntake}

// leases reads who holds each singleton's lease. No bucket, or no key,
// means nobody holds it: the lease is left out.
func (s *Service) leases(ctx context.Context) (map[string]api.LeaseInfo, error) {
	out := map[string]api.LeaseInfo{}
	js, err := jetstream.New(s.nc)
	if err != nil {
		return nil, err
	}
	kv, err := js.KeyValue(ctx, leasesBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, name := range leaseNames {
		e, err := kv.Get(ctx, name)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var l api.LeaseInfo
		if json.Unmarshal(e.Value(), &l) == nil && l.Node != "" {
			out[name] = l
		}
	}
	return out, nil
}
