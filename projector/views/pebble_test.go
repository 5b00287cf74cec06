package views

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/sstable/block"
)

// TestUpperLevelsAreNotCompressed pins the compression of each level: none
// where records are rewritten, the fastest codec at the two bottom levels.
func TestUpperLevelsAreNotCompressed(t *testing.T) {
	po := PebbleOptions(64 << 20)
	last := len(po.Levels) - 1
	for i, l := range po.Levels {
		want := block.NoCompression
		if i >= last-1 {
			want = block.FastestCompression
		}
		if got := l.Compression(); got != want {
			t.Errorf("level %d: compression %v, want %v", i, got, want)
		}
	}
}
