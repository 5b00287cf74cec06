package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/serving"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// audit verify on a stream whose limits were edited verifies the history
// that is there and reports the edit as a finding (and fails), where it
// used to refuse with "stream misconfigured" and say nothing of the history.
func TestVerifyReportsEditedLimitsAndVerifiesWhatIsThere(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	addr := testkit.FreeAddr(t)
	url, stop := serveWith(t, addr, "--data", t.TempDir(), "--listen", addr)
	defer stop()
	v1 := "../../docs/policies/v1-2020-cross-app.json"
	if out, errOut, err := runCLI(ctx, "policy", "publish", v1, "--nats-url", url); err != nil {
		t.Fatalf("publish: %v\n%s%s", err, out, errOut)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	s, err := js.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	cfg.MaxMsgs = 1_000_000
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(ctx, "audit", "verify", "--nats-url", url)
	if err == nil || !strings.Contains(err.Error(), "1 finding") || !strings.Contains(out, "events: 1, views checked: 0, breaks: 0") ||
		!strings.Contains(out, "finding: ") || !strings.Contains(out, "max_msgs 1000000") {
		t.Fatalf("verify of a stream with an edited limit: %v\n%s", err, out)
	}
}

// Under --log-format json a serve that stops on an error says so as its
// last JSON log line, and nothing in text follows it.
func TestServeFatalErrorIsAJSONLogLine(t *testing.T) {
	out, errOut, err := runCLI(context.Background(), "serve", "--data", t.TempDir(), "--listen", testkit.FreeAddr(t),
		"--log-format", "json", "--replicas", "3")
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	last := lines[len(lines)-1]
	if !errors.As(err, new(serving.LoggedError)) || !strings.HasPrefix(last, "{") || !strings.Contains(last, `"msg":"serve stopped"`) ||
		!strings.Contains(last, "replicas") {
		t.Fatalf("serve --replicas 3 on one server: %v\nstdout %q\nlast line %q", err, out, last)
	}
}
