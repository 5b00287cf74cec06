package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/soak"
)

// A short soak: the command runs end to end, samples the process and
// prints a line per sample as it goes. Three seconds say nothing about
// flatness (the documented run is ten minutes): the run says it is not
// judged, and passes, rather than failing on its warm-up.
func TestSoakRunsAndSamples(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"soak", "--duration", "3s", "--clients", "2", "--json"}, &out, &errOut)
	if err != nil || !strings.Contains(errOut.String(), "not judged") ||
		strings.Count(errOut.String(), "goroutines\n") < 10 {
		t.Fatalf("soak: %v\n%s", err, errOut.String())
	}
	var res soak.Result
	if jerr := json.Unmarshal(out.Bytes(), &res); jerr != nil {
		t.Fatalf("soak output: %v (%v)\n%s\n%s", jerr, err, out.String(), errOut.String())
	}
	if res.Commands == 0 || res.Errors != 0 || len(res.Samples) < 10 {
		t.Fatalf("soak: %d commands, %d errors, %d samples", res.Commands, res.Errors, len(res.Samples))
	}
	for _, s := range res.Samples {
		if s.HeapInuse == 0 || s.HeapLive == 0 || s.Goroutines == 0 {
			t.Fatalf("empty sample %+v", s)
		}
	}
}

// The verdict leaves the warm-up out: growth while warming up passes,
// growth after it fails, and too few samples after it are not judged.
func TestSoakJudgesAfterTheWarmup(t *testing.T) {
	samples := func(heaps ...uint64) []soak.Sample {
		var out []soak.Sample
		for i, h := range heaps {
			out = append(out, soak.Sample{At: time.Duration(i) * 30 * time.Second, HeapLive: h << 20, Goroutines: 100})
		}
		return out
	}
	warm := []uint64{200, 250, 300, 330, 340, 340, 341, 339, 340, 342, 340, 341, 339, 340, 341, 340}
	growing := append(append([]uint64{}, warm[:8]...), 360, 400, 440, 480, 520, 560, 600, 640)
	for _, c := range []struct {
		name         string
		s            []soak.Sample
		judged, flat bool
	}{
		{"grows while warming up, then flat", samples(warm...), true, true},
		{"grows after the warm-up", samples(growing...), true, false},
		{"ends in its warm-up", samples(warm[:9]...), false, false},
	} {
		judged, flat := soak.Judge(c.s, 3*time.Minute)
		if judged != c.judged || flat != c.flat {
			t.Errorf("%s: judged %v flat %v, want %v %v", c.name, judged, flat, c.judged, c.flat)
		}
	}
}
