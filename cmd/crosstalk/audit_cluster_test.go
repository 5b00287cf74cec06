package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
)

// A cluster node keeps only its views in --data; the streams are the
// cluster's. 'audit verify --data DIR --nats-url URL' checks those views
// against that server's stream: it refuses the directory while serve runs
// on it, passes once the node is stopped, and fails naming the entry once
// one hist/ entry of the views is changed.
func TestAuditVerifyClusterNodeViews(t *testing.T) {
	srv := natstest.Start(t)
	dir := t.TempDir()
	_, stop := runServe(t, "--data", dir, "--nats-url", srv.URL())
	writeAndWait(t, client.New(srv.Connect(t)))
	args := []string{"audit", "verify", "--data", dir, "--nats-url", srv.URL()}
	var out bytes.Buffer
	if err := run(context.Background(), args, &out, &out); err == nil || !strings.Contains(err.Error(), "Stop that node first") {
		t.Fatalf("verify of a running node's views must refuse and say why: %v\n%s", err, out.String())
	}
	stop()

	verify := auditRun(t, args...)
	if !strings.Contains(verify, "breaks: 0") || strings.Contains(verify, "views checked: 0") ||
		!strings.Contains(verify, "views: checked up to their checkpoint") {
		t.Fatalf("verify of a stopped cluster node's views:\n%s", verify)
	}

	entry := tamperOneHistEntry(t, filepath.Join(dir, "views"))
	out.Reset()
	err := run(context.Background(), args, &out, &out)
	if err == nil || !strings.Contains(out.String(), "differs_in_views") || !strings.Contains(out.String(), entry) {
		t.Fatalf("verify of tampered views must fail naming %s: %v\n%s", entry, err, out.String())
	}
}

// writeAndWait starts a same-app conversation and sends in it, then waits
// (a query with after) until the node's views hold both.
func writeAndWait(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start, err := c.Command(ctx, "messenger", api.ActionConversationStart, map[string]any{
		"command_id": uuid.NewString(), "actor": "messenger:bob", "participants": []string{"messenger:carol"}})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := c.Command(ctx, "messenger", api.ActionMessageSend, map[string]any{
		"command_id": uuid.NewString(), "actor": "messenger:bob", "conversation_id": start.ConversationID, "text": "hi"})
	if err != nil {
		t.Fatal(err)
	}
	var v api.ConversationView
	if err := c.Query(ctx, api.QueryConversation, map[string]any{"conversation_id": start.ConversationID, "after": sent.Position}, &v); err != nil {
		t.Fatal(err)
	}
}

// tamperOneHistEntry appends a byte to the first hist/ entry of the views
// in dir, as an attacker with the disk could, and returns the entry's name
// as verify reports it (hist/<subject>/<seq>).
func tamperOneHistEntry(t *testing.T, dir string) string {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte("hist/"), UpperBound: []byte("hist0")})
	if err != nil {
		t.Fatal(err)
	}
	if !it.First() {
		t.Fatal("the views hold no hist/ entry")
	}
	k := append([]byte(nil), it.Key()...)
	v := append(append([]byte(nil), it.Value()...), ' ')
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Set(k, v, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	// hist/ <subject> 0x00 <seq, 8 bytes big-endian> (projector/keys.go)
	subject, seq := k[len("hist/"):len(k)-9], binary.BigEndian.Uint64(k[len(k)-8:])
	return fmt.Sprintf("hist/%s/%d", subject, seq)
}
