package intake

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// An outage of many failed fetches is one log line, then one when it
// ends, with waits that grow to maxFetchBackoff: not a line a second.
func TestFetchOutageLogsOnceAndBacksOff(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	var o outage
	var waits []time.Duration
	for range 100 {
		waits = append(waits, o.failed(logger, "S", errors.New("nats: no responders"), 250*time.Millisecond))
	}
	o.recovered(logger, "S")
	o.recovered(logger, "S") // no outage: no line
	if n := strings.Count(buf.String(), "fetch failed"); n != 1 {
		t.Errorf("%d lines for an outage of 100 failures:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "fetching again") || strings.Count(buf.String(), "\n") != 2 {
		t.Errorf("log:\n%s", buf.String())
	}
	if waits[0] != 250*time.Millisecond || waits[1] != 500*time.Millisecond || waits[99] != maxFetchBackoff {
		t.Errorf("waits %v … %v, want 250ms, 500ms … %v", waits[:3], waits[99], maxFetchBackoff)
	}
}
