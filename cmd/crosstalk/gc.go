package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target for the long-running
// commands. crosstalk allocates mostly short-lived JSON and Pebble buffers;
// at Go's default of 100, GC took about a fifth of the CPU under load. At
// 400, crosstalk bench measured 8% less CPU per command, 15% less per
// projected event and 25% less per policy closing (docs/performance.md),
// for a heap up to five times the live data instead of two.
const defaultGCPercent = 400

// tuneGC applies defaultGCPercent unless the operator set GOGC, which
// always wins (as does GOMEMLIMIT, read by the runtime itself).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
