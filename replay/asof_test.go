package replay_test

import (
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/replay"
)

func TestParseInstant(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2023-12-14T00:00:00Z":      time.Date(2023, 12, 14, 0, 0, 0, 0, time.UTC),
		"2023-12-14T01:00:00+01:00": time.Date(2023, 12, 14, 0, 0, 0, 0, time.UTC),
		"2023-12-13":                time.Date(2023, 12, 13, 23, 59, 59, 999999999, time.UTC),
	} {
		got, err := replay.ParseInstant(in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseInstant(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2023-13-01", "2023-12-14 00:00"} {
		if _, err := replay.ParseInstant(bad); err == nil {
			t.Errorf("ParseInstant(%q) accepted", bad)
		}
	}
}
