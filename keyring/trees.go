package keyring

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/seal"
)

// NoticeSubject is where a Ring says, on core NATS, that a scope's tree
// changed (punctured or erased): every Ring drops it from its cache at
// once, rather than at the end of Options.CacheTTL.
const NoticeSubject = "crosstalk.keys.changed"

// cached is a tree as read from the stream, with its record's sequence
// (0: the scope has none) and when it was read.
type cached struct {
	tree *seal.Tree
	seq  uint64
	at   time.Time
}

// noticed drops the scope whose subject a notice names.
func (r *Ring) noticed(m *nats.Msg) { r.cache.Remove(string(m.Data)) }

// tell tells every Ring that subject's tree changed.
func (r *Ring) tell(subject string) {
	r.cache.Remove(subject)
	_ = r.js.Conn().Publish(NoticeSubject, []byte(subject)) // the TTL bounds a lost one
}

// current is scope's tree, from the cache while it is fresh, else from
// the stream; its tree is nil when the scope has none.
func (r *Ring) current(ctx context.Context, subject string) (cached, error) {
	if c, ok := r.cache.Get(subject); ok && time.Since(c.at) < r.opts.CacheTTL {
		return c, nil
	}
	c, err := r.read(ctx, subject)
	if err == nil {
		r.cache.Add(subject, c)
	}
	return c, err
}

// read reads subject's last record and unwraps its tree.
func (r *Ring) read(ctx context.Context, subject string) (cached, error) {
	now := time.Now()
	m, err := r.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return cached{at: now}, nil
	}
	if err != nil {
		return cached{}, fmt.Errorf("keys: read a scope's tree: %w", err)
	}
	raw, err := r.master.unwrap(m.Data, subject)
	if err != nil {
		return cached{}, err
	}
	t := new(seal.Tree)
	if err := t.UnmarshalBinary(raw); err != nil {
		return cached{}, err
	}
	return cached{tree: t, seq: m.Sequence, at: now}, nil
}

// tree is scope's tree, made if it has none. Two nodes making one at once
// agree: the second record expects the subject empty, is refused, and the
// first is read.
func (r *Ring) tree(ctx context.Context, scope Scope) (*seal.Tree, error) {
	subject := scope.subject()
	c, err := r.current(ctx, subject)
	if err != nil || c.tree != nil {
		return c.tree, err
	}
	t, err := seal.NewTree()
	if err != nil {
		return nil, err
	}
	if err := r.index(ctx, scope.Account, subject); err != nil {
		return nil, err
	}
	if _, err := r.store(ctx, subject, t, 0); err != nil {
		r.cache.Remove(subject)
		if c, rerr := r.current(ctx, subject); rerr == nil && c.tree != nil {
			return c.tree, nil
		}
		return nil, fmt.Errorf("keys: make a scope's tree: %w", err)
	}
	r.cache.Add(subject, cached{tree: t, at: time.Now()})
	return t, nil
}

// index adds subject to account's scopes. It comes before the tree is
// stored: a listed scope without a tree costs its erasure a lookup, a tree
// its account does not list could never be erased with it.
func (r *Ring) index(ctx context.Context, account, subject string) error {
	if _, err := r.js.Publish(ctx, accountSubject(account), []byte(subject)); err != nil {
		return fmt.Errorf("keys: index a scope: %w", err)
	}
	return nil
}

// store appends t's record on subject, expecting afterSeq as the
// subject's last record (0: none).
func (r *Ring) store(ctx context.Context, subject string, t *seal.Tree, afterSeq uint64) (uint64, error) {
	raw, err := t.MarshalBinary()
	if err != nil {
		return 0, err
	}
	ack, err := r.js.Publish(ctx, subject, r.master.wrap(raw, subject), jetstream.WithExpectLastSequencePerSubject(afterSeq))
	if err != nil {
		return 0, err
	}
	return ack.Sequence, nil
}
