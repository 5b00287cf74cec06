package views

import (
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable/block"
)

// PebbleOptions tunes Pebble for the projector's access pattern, with a
// block cache of cacheSize bytes.
func PebbleOptions(cacheSize int64) *pebble.Options {
	po := &pebble.Options{}
	// Apply looks up keys that mostly do not exist yet (a new message id,
	// a first read marker); bloom filters answer those without reading
	// every level. Levels below inherit L0's policy.
	po.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	// Most of what Apply writes is overwritten soon (conversation records,
	// unread counters, inbox positions move with every message). A 64 MiB
	// memtable (Pebble's default is 4 MiB) absorbs those overwrites before
	// they reach disk, so far fewer bytes are flushed and compacted.
	po.MemTableSize = 64 << 20
	po.MemTableStopWritesThreshold = 4
	// Pebble charges every memtable it holds to the block cache (the
	// mutable one, and the one it keeps to recycle), so a cache of
	// the cache size alone was all reservation and cached no block at all: a
	// query on a store larger than the memtable read and decompressed its
	// blocks from disk every time. The cache is sized for both memtables
	// on top of cacheSize, which the block cache gets.
	po.CacheSize = cacheSize + memtablesReserved*int64(po.MemTableSize)
	po.ApplyCompressionSettings(compressionSettings)
	return po
}

// memtablesReserved is how many memtables Pebble holds, and charges to the
// block cache, in the steady state: the mutable one and a recycled one.
const memtablesReserved = 2

// compressionSettings leaves the upper levels uncompressed and compresses
// the two bottom ones, which hold most of the data. The upper levels are
// where the views' records are rewritten again and again; compressing
// every rewrite cost 13% of the catch-up's CPU (snappy, in the bench), and
// on two cores the CPU is scarcer than the disk.
func compressionSettings() pebble.DBCompressionSettings {
	s := pebble.DBCompressionSettings{Name: "crosstalk"}
	for i := range s.Levels {
		s.Levels[i] = block.NoCompression
		if i >= len(s.Levels)-2 {
			s.Levels[i] = block.FastestCompression
		}
	}
	return s
}
