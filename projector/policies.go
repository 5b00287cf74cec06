package projector

import (
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector/views"
)

// applyPolicy stores a published policy under its version. Which version is
// in force is decided at query time from effective_at, so publishing a
// future policy changes no view now.
func (t *tx) applyPolicy(d decoded) error {
	x := d.data.(*events.PolicyPublishedData)
	if x.Version == 0 {
		t.skip(d, "policy version 0 is not a version")
		return nil
	}
	x.EffectiveAt = x.EffectiveAt.UTC()
	t.setJSON(views.PolicyKey(x.Version), x)
	return nil
}

// countClosed counts a conversation closed by policy version v. The count
// is held by the tx and written once by flush: a policy closes thousands
// of conversations in a run, and a read of the counter (then through an
// indexed batch, which merged the batch with the DB) for each was 4% of
// applying them.
func (t *tx) countClosed(v uint64) error {
	n, ok := t.closedBy[v]
	if !ok {
		var err error
		if n, _, err = views.GetUint(t.db, views.PolicyClosedKey(v)); err != nil {
			return err
		}
	}
	t.closedBy[v] = n + 1
	return nil
}
