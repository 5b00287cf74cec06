// Package lease elects one node of a cluster to run a singleton (the
// policy closer, the intake consumer) by a lease in the JetStream KV bucket
// CROSSTALK_LEASES: one key per singleton, taken and renewed by
// compare-and-set on the key's revision, so that at most one node at a time
// believes it holds it, and a holder that dies is replaced within about
// twice the lease's TTL (docs/reliability.md, "Singletons and fencing").
//
// Expiry is measured on the contender's own clock, never by comparing
// timestamps written by another node: a contender takes a lease whose
// revision it has seen unchanged for the TTL. Clock skew between nodes
// therefore does not matter, only that clocks run at about the same rate.
package lease

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"
)

// Bucket is the KV bucket of the leases, one key per singleton.
const Bucket = "CROSSTALK_LEASES"

// DefaultTTL is how long a lease lives without a renewal: a holder killed
// with -9 is replaced within about twice this (at most TTL plus two polls
// of TTL/3, under 10 s).
const DefaultTTL = 5 * time.Second

// ErrNoNode reports a node id the lease cannot be written with.
var ErrNoNode = errors.New("lease: no node id")

// Options tune a node's leases. The zero value is usable: every field has
// a documented default.
type Options struct {
	// Node is the id this node writes in the leases it holds (node
	// Options.NodeID). Default: "n-" and 8 random hex digits, new for each
	// process.
	Node string
	// TTL is how long a lease lives without a renewal. The holder renews
	// it every TTL/3 and gives it up when it could not for TTL; a
	// contender takes it once its revision has not changed for TTL.
	// Default: DefaultTTL.
	TTL time.Duration
	// Replicas and PlacementTags place the bucket when it is created, as
	// the event stream is (node Options.Replicas, PlacementTags). An
	// existing bucket is used as it is. Default: 0 (1 replica), none.
	Replicas      int
	PlacementTags []string
	// Logger receives a line each time a lease is acquired, lost or
	// released. Default: slog.Default().
	Logger *slog.Logger
}

// EnsureDefaults fills every zero field with its default.
func (o *Options) EnsureDefaults() {
	if o.Node == "" {
		var b [4]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		o.Node = "n-" + hex.EncodeToString(b[:])
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// renewEvery is how often a holder renews and a contender looks.
func (o Options) renewEvery() time.Duration { return o.TTL / 3 }

// Holder is who holds one lease, as the bucket says.
type Holder struct {
	// Node is the holder's node id.
	Node string
	// Term is the revision at which the holder acquired the lease: it
	// changes with each new holder and never with a renewal.
	Term uint64
	// Since is when the holder acquired it, on the holder's clock.
	Since time.Time
	// Revision is the key's revision now, which each renewal advances.
	Revision uint64
}

// value is a lease as the bucket stores it (JSON).
type value struct {
	Node  string    `json:"node"`
	Term  uint64    `json:"term"`
	Since time.Time `json:"since"`
}
