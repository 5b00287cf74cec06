package backup

import "testing"

// A tally passes reports on in order, never a smaller count, and none
// after it is closed: jsm.go's goroutines report a moment after a
// snapshot is done, which must not reach a caller that has moved on.
func TestTallyReportsUntilClosed(t *testing.T) {
	var got []uint64
	tl := newTally(10, func(done, total uint64) { got = append(got, done) })
	base := tl.start(4)
	tl.show(base + 3)
	tl.show(base + 1) // late, from an earlier report
	tl.finish()
	tl.close()
	tl.show(7) // after the run
	if len(got) != 2 || got[0] != 3 || got[1] != 10 {
		t.Errorf("reports %v, want [3 10]", got)
	}
}
