package projector

import (
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/projector/views"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// PolicyTookEffect publishes the visibility.changed notes of policy version
// v taking effect at now, once per version: for every pair of accounts of
// different apps that share a conversation (open or closed), the viewer
// whose sight of the other's activity status or read receipts flips gets
// one note saying what it sees now. It compares v with the last version
// announced (meta/feed-policy), or, before any, with the policy in force
// just before v; the marker is written with the notes' counters, so a
// restart does not announce v again. The notes carry Seq = the checkpoint:
// a client resyncing from it reads the views as the policy now shows them.
// The policy scheduler calls it once the views have applied v and its
// closings. It returns how many notes it published; without Options.Feeds
// it does nothing.
//
// The first policy ever in force announces nothing: before it no link
// existed, so every cross-app conversation was started under it and its
// participants never saw anything else. (Announcing it made the notes
// depend on whether the scheduler's pass came before or after the first
// cross-app conversation: the demo's feed had 14 or 15 notes by timing.)
func (s *Store) PolicyTookEffect(v uint64, now time.Time) (int, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if s.feed.feeds == nil {
		return 0, nil
	}
	release, err := s.acquire()
	if err != nil {
		return 0, err
	}
	defer release()
	done, _, err := views.GetUint(s.db, views.FeedPolicyKey())
	if err != nil || done >= v {
		return 0, err
	}
	before, after, err := views.PolicyPair(s.db, done, v)
	if err != nil {
		return 0, err
	}
	f := s.newFeedTx(len(s.checkpoints) - 1) // the policy's stream: the last
	base := api.Notification{Kind: api.NoteVisibilityChanged, Seq: s.Checkpoint(), At: now, PolicyVersion: v}
	if before != nil {
		if err := s.visibilityNotes(f, before, after, &base); err != nil {
			return 0, err
		}
	}
	b := s.db.NewBatch()
	defer b.Close()
	err = f.write(s.db, b)
	if err == nil {
		err = b.Set(views.FeedPolicyKey(), views.EncodeUint(v), nil)
	}
	if err == nil {
		err = b.Commit(s.commitOpts())
	}
	if err != nil {
		return 0, fmt.Errorf("policy %d: feed notes: %w", v, err)
	}
	sent := len(f.notes)
	s.publish(f)
	return sent, nil
}

// visibilityNotes adds to f a note per (viewer, account) pair of a
// cross-app conversation whose visibility differs between the policies.
func (s *Store) visibilityNotes(f *feedTx, before, after *aggregate.Policy, base *api.Notification) error {
	return views.VisibilityChanges(s.db, before, after, func(r views.Reader, viewer, a events.Account, status, receipts bool) error {
		n := *base
		n.Account, n.ActivityStatus, n.ReadReceipts = string(a), &status, &receipts
		f.add(viewer, &n)
		return nil
	})
}
