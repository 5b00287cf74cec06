package projector

import "github.com/cockroachdb/pebble/v2"

// Metrics returns Pebble's own figures for the store (sizes, compactions,
// read amplification, block cache), for the metrics endpoint; ErrClosed
// after Close.
func (s *Store) Metrics() (*pebble.Metrics, error) {
	release, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer release()
	return s.db.Metrics(), nil
}
