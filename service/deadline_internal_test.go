package service

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A command gets one deadline, AppendTimeout, from the moment the service
// takes it up, and execute keeps it rather than adding a second context
// and timer; any other request keeps CommandTimeout, which execute bounds
// by AppendTimeout as before. A command whose bound expires before it
// reached execute (a policy leader read, say) is answered as one that
// expired within it: 503 unavailable.
func TestCommandHasOneDeadline(t *testing.T) {
	s := &Service{opts: Options{CommandTimeout: time.Hour, AppendTimeout: time.Minute}}
	cmd, cancel := s.requestContext(context.Background(), &endpoint{kind: kindCommand})
	defer cancel()
	if d := time.Until(deadlineOf(t, cmd)); d > time.Minute+deadlineGrain(time.Minute) {
		t.Fatalf("a command's context ends in %s, want within AppendTimeout (1m)", d)
	}
	if bounded, cancel := s.appendBound(cmd); bounded != cmd {
		cancel()
		t.Fatal("execute bounds a command's context again: a second timer per command")
	}
	query, cancel := s.requestContext(context.Background(), &endpoint{kind: "query"})
	defer cancel()
	if d := time.Until(deadlineOf(t, query)); d <= time.Minute {
		t.Fatalf("a query's context ends in %s, want CommandTimeout (1h)", d)
	}
	bounded, cancel := s.appendBound(query)
	defer cancel()
	if bounded == query || time.Until(deadlineOf(t, bounded)) > time.Minute+deadlineGrain(time.Minute) {
		t.Fatal("execute does not bound a request of CommandTimeout by AppendTimeout")
	}
}

// A command past its bound before execute is 503 unavailable, said once.
func TestCommandExpiredBeforeExecuteIsUnavailable(t *testing.T) {
	s := &Service{opts: Options{CommandTimeout: time.Hour, AppendTimeout: time.Millisecond}}
	ctx, cancel := s.requestContext(context.Background(), &endpoint{kind: kindCommand})
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

// Requests taken up within a grain share one context, none of them with a
// deadline shorter than asked; a request later than the shared deadline
// allows gets a new one, and the shared context ends with the cause given.
func TestDeadlinesAreSharedNeverShort(t *testing.T) {
	var d deadlines
	cause := errors.New("the test's cause")
	const timeout = 64 * time.Millisecond // a grain of 1ms
	first := d.context(context.Background(), timeout, cause)
	taken := time.Now()
	second := d.context(context.Background(), timeout, cause)
	if first != second {
		t.Fatal("two requests taken up at once got a context each")
	}
	if short := deadlineOf(t, second).Sub(taken); short < timeout {
		t.Fatalf("the shared deadline is %s after the second request, want at least %s", short, timeout)
	}
	time.Sleep(2 * deadlineGrain(timeout))
	later := time.Now()
	third := d.context(context.Background(), timeout, cause)
	if third == first {
		t.Fatal("a request two grains later got a context that ends too soon for it")
	}
	if short := deadlineOf(t, third).Sub(later); short < timeout {
		t.Fatalf("a new shared deadline is %s after its request, want at least %s", short, timeout)
	}
	<-first.Done()
	if !errors.Is(context.Cause(first), cause) {
		t.Fatalf("the shared context ended with %v, want the cause given", context.Cause(first))
	}
}
