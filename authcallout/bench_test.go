package authcallout_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// BenchmarkDeviceConnect is one device connecting through the callout
// (the server's request, the token's check, the user's signing) and
// closing: what a reconnect storm costs per device.
func BenchmarkDeviceConnect(b *testing.B) {
	w := newWorld(b)
	token := w.token(b, "instagram:alice", 30*time.Minute)
	for b.Loop() {
		nc, err := nats.Connect(w.url, nats.Token(token))
		if err != nil {
			b.Fatal(err)
		}
		nc.Close()
	}
}

// BenchmarkBackendConnect is the same for an app's backend, a static user
// the callout is not asked about: the floor of BenchmarkDeviceConnect.
func BenchmarkBackendConnect(b *testing.B) {
	w := newWorld(b)
	cr, err := w.cfg.Lookup("instagram")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		nc, err := nats.Connect(w.url, nats.UserInfo(cr.User, cr.Password))
		if err != nil {
			b.Fatal(err)
		}
		nc.Close()
	}
}
