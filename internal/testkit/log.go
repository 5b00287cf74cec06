package testkit

import (
	"bytes"
	"io"
	"log/slog"
	"sync"
)

// Quiet is a logger that discards everything: for the components under
// test whose logs the test does not check.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// LockedBuffer is a bytes.Buffer safe to share between writers in other
// goroutines (a logger, a child process's output copier) and the test that
// reads it. The zero value is empty and ready.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Logger returns a text logger that writes to the buffer, for tests that
// check what a component logs.
func (l *LockedBuffer) Logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }
