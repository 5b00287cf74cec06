// Package rawattack is the raw-protocol adversary suite: its tests speak
// the NATS text protocol over a bare socket, as a hostile client can, and
// send every header trick that makes nats-server and nats.go disagree
// (bare LF, bare CR, duplicate values, name case variants, whitespace and
// folding, a header block that ends early or runs on) at every endpoint
// family, as every principal of a generated identity configuration. A test
// fails when a trick changes who is answered. The package has no code of
// its own; docs/security.md describes what it proves.
package rawattack
