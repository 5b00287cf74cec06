package views

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Checksum is a deterministic sha256 over every key and value of the store,
// in key order, read from one snapshot: for each entry, the key's length (8
// bytes big-endian), the key, the value's length and the value. Two stores
// built from the same events, incrementally or by a replay, have the same
// checksum; it is how "rebuilt equals live, key for key" is checked. The
// live feeds' state (feed/: counters and the policy announced) is left out:
// it records what one store published, which a replay never does.
func (q *Queries) Checksum() (sum string, entries uint64, err error) {
	snap, release, err := q.snapshot()
	if err != nil {
		return "", 0, err
	}
	defer release()
	it, err := snap.NewIter(nil)
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	var n [8]byte
	feed := []byte(tableFeed)
	for it.First(); it.Valid(); it.Next() {
		if bytes.HasPrefix(it.Key(), feed) {
			continue
		}
		for _, b := range [][]byte{it.Key(), it.Value()} {
			binary.BigEndian.PutUint64(n[:], uint64(len(b)))
			h.Write(n[:])
			h.Write(b)
		}
		entries++
	}
	if err := it.Close(); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), entries, nil
}
