package service

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/rpc"
)

// A command gets one deadline, AppendTimeout, from the moment the service
// takes it up, and execute keeps it rather than adding a second context
// and timer; any other request keeps CommandTimeout, which execute bounds
// by AppendTimeout as before. A command whose bound expires before it
// reached execute (a policy leader read, say) is answered as one that
// expired within it: 503 unavailable.
func TestCommandHasOneDeadline(t *testing.T) {
	s := &Service{opts: Options{CommandTimeout: time.Hour, AppendTimeout: time.Minute}}
	cmd, cancel := s.requestContext(context.Background(), kindCommand)
	defer cancel()
	if d := time.Until(deadlineOf(t, cmd)); d > time.Minute+rpc.DeadlineGrain(time.Minute) {
		t.Fatalf("a command's context ends in %s, want within AppendTimeout (1m)", d)
	}
	if bounded, cancel := s.appendBound(cmd); bounded != cmd {
		cancel()
		t.Fatal("execute bounds a command's context again: a second timer per command")
	}
	query, cancel := s.requestContext(context.Background(), "query")
	defer cancel()
	if d := time.Until(deadlineOf(t, query)); d <= time.Minute {
		t.Fatalf("a query's context ends in %s, want CommandTimeout (1h)", d)
	}
	bounded, cancel := s.appendBound(query)
	defer cancel()
	if bounded == query || time.Until(deadlineOf(t, bounded)) > time.Minute+rpc.DeadlineGrain(time.Minute) {
		t.Fatal("execute does not bound a request of CommandTimeout by AppendTimeout")
	}
}

// A command past its bound before execute is 503 unavailable, said once.
func TestCommandExpiredBeforeExecuteIsUnavailable(t *testing.T) {
	s := &Service{opts: Options{CommandTimeout: time.Hour, AppendTimeout: time.Millisecond}}
	ctx, cancel := s.requestContext(context.Background(), kindCommand)
	defer cancel()
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
		t.Fatal("a command is not bounded by AppendTimeout (1ms) before execute")
	}
	err := s.failFast(ctx, ctx.Err())
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a command past its bound before execute: %v, want ErrUnavailable", err)
	}
	if again := s.failFast(ctx, err); again != err {
		t.Fatalf("failFast wraps its own answer again: %v", again)
	}
}

func deadlineOf(t *testing.T, ctx context.Context) time.Time {
	t.Helper()
	d, ok := ctx.Deadline()
	if !ok {
		t.Fatal("no deadline")
	}
	return d
}
