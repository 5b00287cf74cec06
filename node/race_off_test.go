//go:build !race

package node_test

// raceEnabled says the tests run with -race, several times slower.
const raceEnabled = false
