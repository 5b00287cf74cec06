// Package testkit holds the small, generic helpers that the tests of many
// packages share: a logger that discards, a buffer a logger and a test can
// share, free loopback ports, waiting for the views to apply a sequence
// (WaitApplied) or for the closer to apply a policy version
// (WaitPolicyApplied), an event signer with a new key, and event builders
// (one sample event of every registered type, the payloads of the common
// stories, encoding that fails the test).
//
// What goes where: testkit imports only the standard library and the low
// packages (events, api), so that the in-package tests of projector,
// service, eventlog and aggregate can use it without an import cycle. A
// real in-process nats-server lives in internal/natstest; a whole crosstalk
// node writing histories lives in node/historytest, which builds on
// both.
package testkit
