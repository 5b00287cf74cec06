package testkit

import "go.uber.org/goleak"

// ServerLeaks are the goroutines nats-server itself may leave behind when
// an embedded server stops, which goleak must not blame on crosstalk: a
// mirror (the auditor's copies in account AUDIT) retrying its consumer
// waits up to 30s in a goroutine that does not watch the shutdown.
var ServerLeaks = []goleak.Option{
	goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server.(*stream).setupMirrorConsumer.func3"),
}
