package projector

import (
	"encoding/binary"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
)

// Poisoned lists every stream message the projector could not apply, in
// stream order. Each was recorded under poison/<seq> with the reason and
// skipped, so one bad message (undecodable bytes published into the stream
// by someone else) never stops the views.
func (s *Store) Poisoned() ([]api.Poisoned, error) {
	var out []api.Poisoned
	prefix := []byte(tablePoison)
	err := s.scanPaged(prefix, func(k, v []byte) error {
		var r poisonRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		seq := binary.BigEndian.Uint64(k[len(prefix):])
		out = append(out, api.Poisoned{Seq: seq, Subject: r.Subject, Error: r.Error, Side: api.SideViews})
		return nil
	})
	return out, err
}
