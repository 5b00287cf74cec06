package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/soak"
)

// A short soak: the command runs end to end and samples the process. Three
// seconds say nothing about flatness (the documented run is ten minutes), so
// the verdict is not asserted here; the samples and the load are.
func TestSoakRunsAndSamples(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"soak", "--duration", "3s", "--clients", "2", "--json"}, &out, &errOut)
	var res soak.Result
	if jerr := json.Unmarshal(out.Bytes(), &res); jerr != nil {
		t.Fatalf("soak output: %v (%v)\n%s\n%s", jerr, err, out.String(), errOut.String())
	}
	if res.Commands == 0 || res.Errors != 0 || len(res.Samples) < 10 {
		t.Fatalf("soak: %d commands, %d errors, %d samples", res.Commands, res.Errors, len(res.Samples))
	}
	for _, s := range res.Samples {
		if s.HeapInuse == 0 || s.Goroutines == 0 {
			t.Fatalf("empty sample %+v", s)
		}
	}
}
