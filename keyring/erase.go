package keyring

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// punctureAttempts bounds Puncture's compare-and-set rounds against other
// nodes changing the same scope.
const punctureAttempts = 8

// Puncture erases leaves lo through hi of scope's tree: the tree without
// them is stored, and every older record of the scope is securely
// deleted, so that no record on disk still derives them. A scope without
// a tree, or without those leaves, is left as it is (its older records,
// if a crash left any, deleted): Puncture is idempotent.
func (r *Ring) Puncture(ctx context.Context, scope Scope, lo, hi uint32) error {
	subject := scope.subject()
	for range punctureAttempts {
		c, err := r.read(ctx, subject)
		if err != nil || c.tree == nil {
			return err
		}
		seq := c.seq
		if p := c.tree.Punctured(lo, hi); !sameTree(p, c.tree) {
			seq, err = r.store(ctx, subject, p, c.seq)
			if isConflict(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("keys: puncture: %w", err)
			}
		}
		err = r.deleteBefore(ctx, subject, seq)
		r.tell(subject)
		return err
	}
	return fmt.Errorf("keys: puncture: the scope kept changing under %d attempts", punctureAttempts)
}

// EraseAccount erases every tree of account's scopes, and its index: what
// the account wrote can no longer be opened, anywhere. It returns how many
// scopes it erased; an account without any is no error (idempotent).
func (r *Ring) EraseAccount(ctx context.Context, account string) (int, error) {
	idx := accountSubject(account)
	msgs, err := r.onSubject(ctx, idx, 0)
	if err != nil {
		return 0, err
	}
	erased := map[string]bool{}
	for _, m := range msgs {
		subject := string(m.Data)
		if erased[subject] {
			continue
		}
		if err := r.deleteBefore(ctx, subject, 0); err != nil {
			return len(erased), err
		}
		erased[subject] = true
		r.tell(subject)
	}
	return len(erased), r.deleteBefore(ctx, idx, 0)
}

// deleteBefore securely deletes subject's messages older than seq, or
// all of them when seq is 0.
func (r *Ring) deleteBefore(ctx context.Context, subject string, seq uint64) error {
	msgs, err := r.onSubject(ctx, subject, seq)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if err := r.stream.SecureDeleteMsg(ctx, m.Sequence); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return fmt.Errorf("keys: erase: %w", err)
		}
	}
	return nil
}

// onSubject is subject's messages older than seq (all when seq is 0).
func (r *Ring) onSubject(ctx context.Context, subject string, seq uint64) ([]*jetstream.RawStreamMsg, error) {
	var out []*jetstream.RawStreamMsg
	for next := uint64(1); seq == 0 || next < seq; {
		m, err := r.stream.GetMsg(ctx, next, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("keys: read %s: %w", subject, err)
		}
		if seq != 0 && m.Sequence >= seq {
			break
		}
		out = append(out, m)
		next = m.Sequence + 1
	}
	return out, nil
}

// isConflict reports a record refused because another was stored first.
func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// EraseTree erases scope's tree if it is the one with id treeID, and
// reports whether it did: an erasure applied again (Reerase) must not
// reach a tree made after it.
func (r *Ring) EraseTree(ctx context.Context, scope Scope, treeID string) (bool, error) {
	subject := scope.subject()
	c, err := r.read(ctx, subject)
	if err != nil || c.tree == nil || c.tree.ID() != treeID {
		return false, err
	}
	err = r.deleteBefore(ctx, subject, 0)
	r.tell(subject)
	return err == nil, err
}

// PunctureTree is Puncture on scope's tree if it is the one with id
// treeID; a tree made since is left as it is.
func (r *Ring) PunctureTree(ctx context.Context, scope Scope, treeID string, lo, hi uint32) error {
	c, err := r.read(ctx, scope.subject())
	if err != nil || c.tree == nil || c.tree.ID() != treeID {
		return err
	}
	return r.Puncture(ctx, scope, lo, hi)
}
