// Package history is the work of the binary's commands that read a
// history from outside the service: audit verify, checksum, timeline,
// visibility, policy, export and public-key, and replay. Each opens the
// history a Target names (a stopped node's data directory, or a running
// server), asks audit, report or replay, and prints the answer as text or
// JSON; cmd/crosstalk holds their flags.
package history
