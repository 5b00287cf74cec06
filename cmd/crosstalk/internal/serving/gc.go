package serving

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target for the long-running
// commands. crosstalk allocates mostly short-lived JSON and Pebble buffers;
// at Go's default of 100, GC took about a fifth of the CPU under load. At
// 400, crosstalk bench measured 8% less CPU per command, 15% less per
// projected event and 25% less per policy closing (docs/performance-history.md),
// for a heap up to five times the live data instead of two.
const defaultGCPercent = 400

// defaultMemoryLimit is the heap budget of the long-running commands
// (docs/reliability.md, "Memory"): at GOGC 400 the heap may grow to five
// times the live data, which under a flood was gigabytes; past this soft
// limit the garbage collector runs as often as it must to stay under it.
const defaultMemoryLimit = 1 << 30

// TuneGC applies defaultGCPercent unless the operator set GOGC, which
// always wins. bench and soak measure CPU, so they take no memory limit:
// one that their large stores reach turns their figures into the
// collector's.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}

// LimitMemory applies defaultMemoryLimit unless the operator set
// GOMEMLIMIT, which the runtime reads itself and which always wins: serve's
// heap budget (docs/reliability.md, "Memory").
func LimitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
