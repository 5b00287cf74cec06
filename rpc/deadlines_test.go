package rpc

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Requests taken up within a grain share one context, none of them with a
// deadline shorter than asked; a request later than the shared deadline
// allows gets a new one, and the shared context ends with the cause given.
func TestDeadlinesAreSharedNeverShort(t *testing.T) {
	var d Deadlines
	cause := errors.New("the test's cause")
	const timeout = 64 * time.Millisecond // a grain of 1ms
	first := d.Context(context.Background(), timeout, cause)
	taken := time.Now()
	second := d.Context(context.Background(), timeout, cause)
	if first != second {
		t.Fatal("two requests taken up at once got a context each")
	}
	if short := lead(t, second, taken); short < timeout {
		t.Fatalf("the shared deadline is %s after the second request, want at least %s", short, timeout)
	}
	time.Sleep(2 * DeadlineGrain(timeout))
	later := time.Now()
	third := d.Context(context.Background(), timeout, cause)
	if third == first {
		t.Fatal("a request two grains later got a context that ends too soon for it")
	}
	if short := lead(t, third, later); short < timeout {
		t.Fatalf("a new shared deadline is %s after its request, want at least %s", short, timeout)
	}
	<-first.Done()
	if !errors.Is(context.Cause(first), cause) {
		t.Fatalf("the shared context ended with %v, want the cause given", context.Cause(first))
	}
}

// lead is how long after from ctx's deadline falls.
func lead(t *testing.T, ctx context.Context, from time.Time) time.Duration {
	t.Helper()
	if at, ok := ctx.Deadline(); ok {
		return at.Sub(from)
	}
	t.Fatal("no deadline")
	return 0
}
