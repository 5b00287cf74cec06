// Package depcheck holds no code, only tests: it keeps the domain packages
// (events and aggregate) free of infrastructure. They must build without
// NATS or Pebble, so that the rules of crosstalk can be read, tested and
// reused without a broker or a store; adapters (eventlog, projector,
// service) depend on the domain, never the other way round. It also keeps
// the wire contract (api) on the standard library alone, and the client on
// the contract and NATS, without the server's store or broker;
// and service on top: the packages below it, the closer among them, never
// import it; and internal/ a set of leaves that reach neither node, service
// nor the binary, whose tools live under cmd/crosstalk/internal/.
package depcheck
