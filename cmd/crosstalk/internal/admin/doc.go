// Package admin is what the binary's commands against a running service
// do: ask a node's status, publish a policy and follow the closer until it
// is applied, rebuild a node's read model and follow the rebuild. The
// commands in cmd/crosstalk hold the flags and call one function here.
package admin
