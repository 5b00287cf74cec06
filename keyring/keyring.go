// Package keyring keeps the keys that seal personal content
// (docs/erasure.md): a key tree (seal.Tree) per scope, an account's
// writing in one conversation, wrapped by the master key (Master) and
// stored in the stream CROSSTALK_KEYS, one subject per scope. Unsending a
// message punctures its leaf; erasing an account deletes its scopes'
// trees. Both remove the old record with JetStream's secure delete, which
// overwrites the message's bytes on disk, so that what it sealed can never
// be opened again, in the log or in any backup of it.
package keyring

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/seal"
)

// StreamName is the stream of the wrapped data keys.
const StreamName = "CROSSTALK_KEYS"

// subjectPrefix is the subjects of StreamName: one per scope.
const subjectPrefix = "crosstalk.keys."

// ErrErased reports content whose key is gone: its scope's tree erased
// (or never made), or its leaf punctured. It is seal.ErrErased.
var ErrErased = seal.ErrErased

// Scope is what one data key seals: what Account wrote in Conversation.
type Scope struct {
	Account      string
	Conversation string
}

// subject is the scope's subject: a hash of it, so that no account name
// needs to be a subject token and the stream's subjects name no one.
func (s Scope) subject() string {
	return subjectPrefix + hashToken(s.Account+"\x00"+s.Conversation)
}

// accountSubject is the index of an account's scopes: one message per
// scope it has a tree in, naming the scope's subject, so that erasing the
// account finds them all.
func accountSubject(account string) string {
	return subjectPrefix + "account." + hashToken(account)
}

// hashToken is 16 bytes of the SHA-256 of s, in hex: a subject token.
func hashToken(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// Options place the stream when it is created, as the event log's are,
// and bound the trees a Ring keeps in memory. The zero value is usable.
type Options struct {
	// Replicas and PlacementTags place the stream. Default: 1, none.
	Replicas      int
	PlacementTags []string
	// CacheSize bounds the trees kept in memory. Default: 10000.
	CacheSize int
	// CacheTTL is how long a tree read from the stream is used before it
	// is read again: the bound on how long another node's erasure can go
	// unseen here when its notice (NoticeSubject) is lost. Default: 10s.
	CacheTTL time.Duration
}

// Ring is the key trees, opened by the master key. Build it with Open;
// Close it to stop following other nodes' erasures.
type Ring struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	master *Master
	opts   Options
	cache  *lru.Cache[string, cached]
	notice *nats.Subscription
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
	o.CacheSize = cmp.Or(o.CacheSize, 10000)
	o.CacheTTL = cmp.Or(o.CacheTTL, 10*time.Second)
	r := &Ring{js: js, stream: s, master: master, opts: o}
	r.cache, _ = lru.New[string, cached](o.CacheSize) // a positive size never fails
	if r.notice, err = js.Conn().Subscribe(NoticeSubject, r.noticed); err != nil {
		return nil, fmt.Errorf("keys: follow erasures: %w", err)
	}
	return r, nil
}

// Close stops following other nodes' erasures.
func (r *Ring) Close() error { return r.notice.Unsubscribe() }
