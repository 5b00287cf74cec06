package projector

import (
	"encoding/binary"

	json "github.com/goccy/go-json"
)

// Poisoned is a stream message the projector could not apply: it was
// recorded under poison/<seq> with the reason and skipped, so one bad message
// (undecodable bytes published into the stream by someone else) never stops
// the views.
type Poisoned struct {
	Seq     uint64 `json:"seq"`
	Subject string `json:"subject"`
	Error   string `json:"error"`
}

// Poisoned lists every skipped message, in stream order.
func (s *Store) Poisoned() ([]Poisoned, error) {
	var out []Poisoned
	prefix := []byte(tablePoison)
	err := s.scanPaged(prefix, func(k, v []byte) error {
		var r poisonRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		seq := binary.BigEndian.Uint64(k[len(prefix):])
		out = append(out, Poisoned{Seq: seq, Subject: r.Subject, Error: r.Error})
		return nil
	})
	return out, err
}
