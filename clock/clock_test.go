package clock_test

import (
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/clock"
)

// A simulated clock stands still until moved, and reads UTC; the wall
// clock reads UTC too.
func TestSimStandsStillUntilMoved(t *testing.T) {
	at := time.Date(2023, 12, 13, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	c := clock.NewSim(at)
	if got := c.Now(); !got.Equal(at) || got.Location() != time.UTC {
		t.Fatalf("NewSim reads %v, want %v in UTC", got, at)
	}
	c.Advance(time.Minute)
	if got := c.Now(); !got.Equal(at.Add(time.Minute)) {
		t.Fatalf("after Advance: %v", got)
	}
	c.Set(at)
	if got := c.Now(); !got.Equal(at) {
		t.Fatalf("after Set: %v", got)
	}
	if (clock.Wall{}).Now().Location() != time.UTC {
		t.Fatal("the wall clock does not read UTC")
	}
}
