// Package api is crosstalk's wire contract: the NATS subjects a client
// sends to, the request and reply bodies of every command and query, and the
// error codes and error body of a refusal. docs/contract.md describes it in
// prose; this package is the same contract as Go types.
//
// It imports only the standard library, so a producer or a tool can speak
// to crosstalk without building the server: accounts and apps are plain
// strings here ("<app>:<handle>" and the app name), and a policy document is
// raw JSON. The server validates both; this package only names them.
package api
