package node_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// A node started on a fresh directory answers a command through NATS; once
// stopped, its directory opens offline with the event in the log and in the
// views. While it runs, the directory is refused as in use.
func TestStartStopOpenStopped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	_, r, stop := startWithConversation(ctx, t, dir)
	checkInUse(ctx, t, dir)
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	s, err := node.OpenStopped(ctx, node.StoppedOptions{Dir: dir, Views: true, Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	m, err := s.Log().Get(ctx, r.StreamSeq)
	if err != nil {
		t.Fatal(err)
	}
	e, err := events.Decode(m.Data)
	if err != nil || e.Type != events.ConversationStarted || e.Subject != r.ConversationID {
		t.Fatalf("seq %d: %+v, %v; want the conversation.started of %s", r.StreamSeq, e, err, r.ConversationID)
	}
	if s.Views() == nil || s.Views().Checkpoint() != r.StreamSeq {
		t.Fatalf("the views of the stopped node must be open at seq %d", r.StreamSeq)
	}
}

// checkInUse expects every way of opening dir to refuse it with ErrInUse.
func checkInUse(ctx context.Context, t *testing.T, dir string) {
	t.Helper()
	if err := (node.Layout{Dir: dir}).CheckStopped(); !errors.Is(err, node.ErrInUse) {
		t.Errorf("CheckStopped on a running node's directory: %v, want ErrInUse", err)
	}
	if _, err := node.OpenStopped(ctx, node.StoppedOptions{Dir: dir, Logger: testkit.Quiet()}); !errors.Is(err, node.ErrInUse) {
		t.Errorf("OpenStopped on a running node's directory: %v, want ErrInUse", err)
	}
	if _, err := node.Start(ctx, node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: testkit.Quiet()}); !errors.Is(err, node.ErrInUse) {
		t.Errorf("Start on a running node's directory: %v, want ErrInUse", err)
	}
}

// A directory without a node's files is no history: OpenStopped refuses it
// rather than creating an empty one.
func TestOpenStoppedRefusesWhereThereIsNoStream(t *testing.T) {
	dir := t.TempDir()
	_, err := node.OpenStopped(context.Background(), node.StoppedOptions{Dir: dir, Logger: testkit.Quiet()})
	if !errors.Is(err, node.ErrNoStream) {
		t.Fatalf("OpenStopped on an empty directory: %v, want ErrNoStream", err)
	}
	if err := (node.Layout{Dir: dir}).CheckStopped(); err != nil {
		t.Fatalf("a directory without views is not in use: %v", err)
	}
}

func TestLayout(t *testing.T) {
	l := node.Layout{Dir: "data"}
	if l.Views() != filepath.Join("data", "views") || l.JetStream() != filepath.Join("data", "jetstream") {
		t.Fatalf("layout: %s, %s", l.Views(), l.JetStream())
	}
}

// A node asked for other placement than its streams have refuses to start
// and names every stream that differs, not only the first.
func TestStartNamesEveryStreamThatDiffers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	n, err := node.Start(ctx, node.Options{Dir: dir, Listen: "127.0.0.1:0", Logger: testkit.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n, err = node.Start(ctx, node.Options{Dir: dir, Listen: "127.0.0.1:0", PlacementTags: []string{"ssd"}, Logger: testkit.Quiet()})
	if err == nil {
		n.Close()
		t.Fatal("a node asking for placement tags its streams lack started")
	}
	if !errors.Is(err, eventlog.ErrReplicationMismatch) || !errors.Is(err, intake.ErrReplicationMismatch) {
		t.Errorf("err = %v, want both streams' and the intake's replication mismatch", err)
	}
	t.Logf("refused: %v", err)
	for _, stream := range []string{events.StreamName, events.AuditStreamName, intake.AppStream("instagram")} {
		if !strings.Contains(err.Error(), "stream "+stream+":") && !strings.Contains(err.Error(), stream+" ") {
			t.Errorf("the refusal does not name %s: %v", stream, err)
		}
	}
}
