package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crosstalk-dev/crosstalk/report"
)

// The auditor's questions about the demo's history, offline on its data
// directory and online beside a serve on it.
func TestAuditTimelineVisibilityPolicyOfTheDemo(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"demo", "--data", dir}, &out, &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	var alice report.Timeline
	if err := json.Unmarshal([]byte(auditRun(t, "audit", "timeline", "--data", dir, "--account", "instagram:alice", "--json")), &alice); err != nil {
		t.Fatal(err)
	}
	if len(alice.Conversations) != 1 {
		t.Fatalf("alice takes part in the one cross-app conversation: %+v", alice.Conversations)
	}
	cross := alice.Conversations[0]

	t.Run("timeline", func(t *testing.T) { auditTimelineOfDemo(t, dir, cross) })
	t.Run("visibility", func(t *testing.T) { auditVisibilityOfDemo(t, dir, cross) })
	t.Run("policy", func(t *testing.T) {
		got := auditRun(t, "audit", "policy", "--data", dir, "--version", "2")
		checkPolicyReport(t, got, cross)
	})
	t.Run("online", func(t *testing.T) { auditOnlineBesideServe(t, dir, cross) })
}

func auditTimelineOfDemo(t *testing.T, dir, cross string) {
	page := filepath.Join(t.TempDir(), "timeline.html")
	got := auditRun(t, "audit", "timeline", "--data", dir, "--conversation", cross, "--html", page)
	for _, want := range []string{"timeline of conversation " + cross + ": 7 events", "SEQ  TIME",
		"instagram:alice  instagram/instagram-backend  conversation.started  v1      started with instagram:alice, messenger:bob (cross-app)",
		"policy           service                      conversation.closed   v2      closed by policy v2",
		"policy v2 cross-app-disconnect-2023-12 (effective 2023-12-14T00:00:00Z)"} {
		if !strings.Contains(got, want) {
			t.Errorf("timeline lacks %q:\n%s", want, got)
		}
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", `class="boundary"`, `class="closed"`, "closed by policy v2"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("the HTML page lacks %q", want)
		}
	}
}

func auditVisibilityOfDemo(t *testing.T, dir, cross string) {
	for at, visible := range map[string]bool{"2023-12-13": true, "2023-12-14T00:00:00Z": false, "2023-12-15": false} {
		var v report.View
		if err := json.Unmarshal([]byte(auditRun(t, "audit", "visibility", "--data", dir,
			"--viewer", "messenger:bob", "--at", at, "--json")), &v); err != nil {
			t.Fatal(err)
		}
		for _, c := range v.Conversations {
			if c.ConversationID != cross {
				continue
			}
			_, receipt := c.ReadReceipts["instagram:alice"]
			if c.Others[0].ActivityStatus.Visible != visible || receipt != visible {
				t.Errorf("at %s bob sees alice's status and receipt: %v, %v; want %v", at, c.Others[0].ActivityStatus.Visible, receipt, visible)
			}
		}
	}
	got := auditRun(t, "audit", "visibility", "--data", dir, "--viewer", "messenger:bob", "--at", "2023-12-15")
	for _, want := range []string{"what messenger:bob could see at 2023-12-15T23:59:59.999999999Z",
		"cross-app  closed by policy v2",
		"instagram:alice  not visible: policy v2 (cross-app-disconnect-2023-12) denies messenger -> instagram see_activity_status"} {
		if !strings.Contains(got, want) {
			t.Errorf("visibility lacks %q:\n%s", want, got)
		}
	}
}

func checkPolicyReport(t *testing.T, got, cross string) {
	t.Helper()
	for _, want := range []string{"policy v2 cross-app-disconnect-2023-12", "conversations it closed: 1", cross,
		"first event decided under it: seq 13", "commands refused under it: 3", "cross_app_not_allowed  with messenger:bob"} {
		if !strings.Contains(got, want) {
			t.Errorf("policy report lacks %q:\n%s", want, got)
		}
	}
}

// auditOnlineBesideServe asks the same questions, as the auditor, of a serve
// running on the demo's data under a configuration, through --nats-url.
func auditOnlineBesideServe(t *testing.T, dir, cross string) {
	url, asAuditor, stop := serveConfiguredOn(t, dir)
	defer stop()
	var out bytes.Buffer
	err := run(context.Background(), []string{"audit", "timeline", "--data", dir, "--conversation", cross}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "serve") {
		t.Errorf("timeline --data on a directory serve runs on must refuse and say why: %v", err)
	}
	checkPolicyReport(t, auditRun(t, append([]string{"audit", "policy", "--nats-url", url, "--version", "2"}, asAuditor...)...), cross)
	got := auditRun(t, append([]string{"audit", "visibility", "--nats-url", url, "--viewer", "messenger:bob", "--at", "2023-12-13"}, asAuditor...)...)
	if !strings.Contains(got, "instagram:alice  active") {
		t.Errorf("online, on the 13th bob sees alice active:\n%s", got)
	}
}

func TestAuditTimelineRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "timeline", "--data", dir}, "at least one of the flags in the group [conversation account] is required"},
		{[]string{"audit", "timeline", "--data", dir, "--conversation", "x", "--account", "instagram:alice"}, "none of the others can be"},
		{[]string{"audit", "timeline", "--data", dir, "--account", "alice"}, "must be <app>:<handle>"},
		{[]string{"audit", "visibility", "--data", dir, "--viewer", "messenger:bob", "--at", "yesterday"}, "neither an RFC 3339 time"},
		{[]string{"audit", "visibility", "--data", dir, "--viewer", "messenger:bob"}, `required flag(s) "at" not set`},
		{[]string{"audit", "policy", "--data", dir}, `required flag(s) "version" not set`},
		{[]string{"audit", "policy", "--data", dir, "--version", "2"}, "no crosstalk stream in"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), c.args, &out, &out)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error with %q", c.args, err, c.want)
		}
	}
}

func TestAuditTimelineHelpExplains(t *testing.T) {
	for _, args := range [][]string{{"audit", "timeline", "--help"}, {"audit", "visibility", "--help"}, {"audit", "policy", "--help"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if out.Len() < 600 || !strings.Contains(out.String(), "--data") || !strings.Contains(out.String(), "--json") {
			t.Errorf("%v: help too short:\n%s", args, out.String())
		}
	}
}
