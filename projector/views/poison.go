package views

import (
	"fmt"
	"strconv"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
)

// Poisoned lists every stream message the projector could not apply, in
// stream order (stream after stream in a store of several). Each was
// recorded under poison/<seq> (poison/<stream><seq> in a store of several
// streams, whose sequences repeat from one stream to the next) with the
// reason and
// skipped, so one bad message (undecodable bytes published into the stream
// by someone else) never stops the views.
func (q *Queries) Poisoned() ([]api.Poisoned, error) {
	var out []api.Poisoned
	prefix := []byte(tablePoison)
	err := q.scanPaged(prefix, func(k, v []byte) error {
		var r PoisonRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		stream, seq, ok := parsePoisonKey(k)
		if !ok {
			return fmt.Errorf("poison key %x", k)
		}
		p := api.Poisoned{Seq: seq, Subject: r.Subject, Error: r.Error, Side: api.SideViews}
		if stream >= 0 {
			p.Stream = strconv.Itoa(stream)
		}
		out = append(out, p)
		return nil
	})
	return out, err
}
