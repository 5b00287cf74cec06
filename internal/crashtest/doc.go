// Package crashtest proves that crosstalk never loses an acknowledged
// command when its process dies at an arbitrary moment.
//
// Its test builds the real binary, runs `crosstalk serve --sync-always` as a
// child process, drives a bounded load through retrying producers, kills the
// child with SIGKILL at random points (during appends, projection, the
// policy closer and recovery) and restarts it on the same data. Afterwards
// it stops the child cleanly and checks the data directory offline: every
// acknowledged command is in the stream exactly once, the Pebble views equal
// a fresh replay of the stream, and the audit finds no break.
//
// TestServeOnClusterLeaderKill runs the binary as `serve --nats-url
// URL,URL,URL --replicas 3` on three nats-server processes built from the
// nats-server module crosstalk depends on, kills the stream leader's
// server with SIGKILL mid-load, and checks the stream and the read model
// through the surviving servers.
//
// TestIntakeBacklogWhileServeIsDown runs serve --nats-url on one nats-server
// process, publishes 10,000 intake commands while serve is stopped, and
// checks that serve, started again (and once killed with SIGKILL midway),
// decides each exactly once and in per-conversation order.
//
// TestClusterOfNodes runs three nats-server processes and three serve
// nodes on them (one --roles commands), kills with SIGKILL the node holding
// the closer and intake leases and the stream leader's server under a load
// of producers, intake publishers and read-your-writes probes, then flips
// the policy twenty times, and checks the stream, the intake, the closings
// and every node's views (audit verify --data DIR --nats-url URL).
//
// The package holds no code used elsewhere; see docs/reliability.md for what
// it proves and how to run the long version.
package crashtest
