//go:build race

package crashtest

// raceEnabled: the test binary runs with the race detector, so the child
// binary is built with it too (reusing the packages the test compiled, and
// catching races in serve).
const raceEnabled = true
