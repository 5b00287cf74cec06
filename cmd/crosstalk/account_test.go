package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
)

// 'crosstalk account export' writes an account's export as JSON lines,
// one item a line, across pages (more items than one page holds), to a
// file only its owner may read.
func TestAccountExportWritesJSONLines(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := startServe(t)
	v1 := filepath.Join("..", "..", "docs", "policies", "v1-2020-cross-app.json")
	if out, _, err := runCLI(ctx, "policy", "publish", v1, "--nats-url", url); err != nil {
		t.Fatalf("publish v1: %v\n%s", err, out)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := client.New(nc)
	r, err := c.Command(ctx, "instagram", "conversation.start", map[string]any{"command_id": uuid.NewString(),
		"actor": "instagram:alice", "participants": []string{"messenger:bob"}})
	if err != nil {
		t.Fatal(err)
	}
	const sent = api.MaxPageSize + 5 // two pages
	for range sent {
		if r, err = c.Command(ctx, "instagram", "message.send", map[string]any{"command_id": uuid.NewString(),
			"actor": "instagram:alice", "conversation_id": r.ConversationID, "text": "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "alice.jsonl")
	_, errOut, err := runCLI(ctx, "account", "export", "--account", "instagram:alice", "--out", file, "--nats-url", url)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, errOut)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v, %v; want 0600", st.Mode(), err)
	}
	texts, lines := 0, 0
	for sc := bufio.NewScanner(f); sc.Scan(); lines++ {
		var it api.ExportItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("line %d: %v: %s", lines+1, err, sc.Text())
		}
		if it.PolicyVersion != 1 || it.EventID == "" {
			t.Errorf("line %d: %+v", lines+1, it)
		}
		if strings.Contains(string(it.Data), `"text":"hi"`) {
			texts++
		}
	}
	if texts != sent || lines != sent+1 || !strings.Contains(errOut, "exported 206 items of instagram:alice") {
		t.Errorf("%d lines, %d texts; want %d messages and the start\n%s", lines, texts, sent, errOut)
	}
}
