package service_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/keyring"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/service"
)

// BenchmarkCommandPath drives message.send through the whole service, the
// projector following, over an in-process nats-server: 32 clients with 16
// commands each in flight, each sender on a conversation of its own (no
// conflicts), as the bench's cmd_send_pipelined does on a smaller scale. It reports the process's CPU
// per command (cpu-µs/op), the figure issue 15 targets.
func BenchmarkCommandPath(b *testing.B) { benchCommandPath(b, true) }

// BenchmarkCommandPathCommandsNode is BenchmarkCommandPath on a
// commands-only service (a nil store: no projector, no read model), as
// serve --roles commands runs it: the command path alone, which issue 23
// holds to at most twice the CPU of raw_occ_endpoint.
func BenchmarkCommandPathCommandsNode(b *testing.B) { benchCommandPath(b, false) }

// BenchmarkCommandPathSealed is BenchmarkCommandPathCommandsNode with
// sealing (service.Options.Keys, a real keyring on the same server): what
// a digest and a seal per message, and a scope's tree made per
// conversation, cost the command path. Compare it with
// BenchmarkCommandPathCommandsNode in the same run.
func BenchmarkCommandPathSealed(b *testing.B) { benchCommandPathWith(b, false, true) }

// benchCommandPath runs the command path's benchmark, with a read model
// in the process when views is true.
func benchCommandPath(b *testing.B, views bool) { benchCommandPathWith(b, views, false) }

// benchCommandPathWith is benchCommandPath, sealing with a keyring when
// sealed is true.
func benchCommandPathWith(b *testing.B, views, sealed bool) {
	const clients, inFlight, conversations = 32, 16, 32 * 16
	srv := natstest.Start(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var keys service.Keys
	if sealed {
		keys = benchRing(ctx, b, srv)
	}
	startBenchServiceWith(ctx, b, srv, views, testkit.Signer(b), keys)
	conns := make([]*client.Client, clients)
	for i := range conns {
		conns[i] = client.New(srv.Connect(b))
	}
	convs := make([]string, conversations)
	for i := range convs {
		r, err := conns[0].Command(ctx, "messenger", "conversation.start", map[string]any{
			"command_id": events.NewID(), "actor": fmt.Sprintf("messenger:a%d", i), "participants": []string{fmt.Sprintf("messenger:b%d", i)}})
		if err != nil {
			b.Fatal(err)
		}
		convs[i] = r.ConversationID
	}
	text := "a message of ordinary length, about sixty-four bytes of text...."
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, io0 := processCPU(), testkit.ProcessCounts()
	for s := range clients * inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := s / inFlight
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				_, err := conns[owner].Command(ctx, "messenger", "message.send", map[string]any{
					"command_id": events.NewID(), "actor": fmt.Sprintf("messenger:a%d", s), "conversation_id": convs[s], "text": text})
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	reads, writes, switches := testkit.ProcessCounts().Per(io0, b.N)
	b.ReportMetric(reads, "reads/op")
	b.ReportMetric(writes, "writes/op")
	b.ReportMetric(switches, "switches/op")
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startBenchService starts a service on srv, with a read model when views
// is true and signing with signer when it is not nil, until ctx ends; it
// returns the read model (nil without one) once the endpoints answer.
func startBenchService(ctx context.Context, b *testing.B, srv *natstest.Server, views bool, signer *events.Signer) *projector.Store {
	return startBenchServiceWith(ctx, b, srv, views, signer, nil)
}

// benchRing is a keyring on srv, its master key in a temporary file.
func benchRing(ctx context.Context, b *testing.B, srv *natstest.Server) *keyring.Ring {
	path := filepath.Join(b.TempDir(), "master.key")
	if err := keyring.CreateMaster(path); err != nil {
		b.Fatal(err)
	}
	master, err := keyring.ReadMaster(path)
	if err != nil {
		b.Fatal(err)
	}
	js, err := jetstream.New(srv.Connect(b))
	if err != nil {
		b.Fatal(err)
	}
	ring, err := keyring.Open(ctx, js, master, keyring.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ring.Close() })
	return ring
}

// startBenchServiceWith is startBenchService sealing with keys (nil: none).
func startBenchServiceWith(ctx context.Context, b *testing.B, srv *natstest.Server, views bool, signer *events.Signer, keys service.Keys) *projector.Store {
	js, err := jetstream.New(srv.Connect(b))
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	log, err := eventlog.Open(ctx, js, eventlog.Options{Logger: logger, Signer: signer})
	if err != nil {
		b.Fatal(err)
	}
	var store *projector.Store
	if views {
		if store, err = projector.Open(projector.Options{Dir: b.TempDir(), Logger: logger}); err != nil {
			b.Fatal(err)
		}
	}
	svc := service.New(srv.Connect(b), log, store, service.Options{Logger: logger, Keys: keys})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx) }()
	b.Cleanup(func() {
		stop()
		<-done
		if store != nil {
			_ = store.Close()
		}
	})
	<-svc.Ready()
	return store
}
