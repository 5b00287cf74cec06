package service_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/service"
)

// Read-your-writes by position: a command's reply carries the position of
// its event, and a query with it as "after" answers only once the views
// have applied it: 504 not_caught_up while they are held back, the
// command's effect once they are let go. A query without it is answered
// at once, from the views as they are.
func TestQueryAfterThePositionOfAReply(t *testing.T) {
	h := newHarness(t)
	h.must(alice, api.ActionPresenceSet, map[string]any{"status": "active"})
	var before api.PresenceView
	h.mustQuery(api.QueryPresence, map[string]any{"viewer": alice, "account": alice}, &before)
	open := make(chan struct{})
	h.wrapLog = func(l service.Log) service.Log { return heldLog{Log: l, open: open} }
	h.restart(service.Options{ReadWait: 100 * time.Millisecond})
	r := h.must(alice, api.ActionPresenceSet, map[string]any{"status": "idle"})
	if want := api.Position(fmt.Sprintf("v1.%d", r.StreamSeq)); r.Position != want {
		t.Fatalf("reply position %q, want %q", r.Position, want)
	}
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	ask := func(req map[string]any) (api.PresenceView, error) {
		var v api.PresenceView
		req["viewer"], req["account"] = alice, alice
		return v, h.c.Query(ctx, api.QueryPresence, req, &v)
	}
	if v, err := ask(map[string]any{"after": r.Position}); client.CodeOf(err) != api.CodeNotCaughtUp {
		t.Fatalf("after %s with the views held: %+v, %v; want not_caught_up", r.Position, v, err)
	}
	if v, err := ask(map[string]any{}); err != nil || v.Status != "active" {
		t.Fatalf("without after, with the views held: %+v, %v; want the views as they are", v, err)
	}
	close(open)
	if v, err := ask(map[string]any{"after": r.Position}); err != nil || v.Status != "idle" {
		t.Fatalf("after %s once the views follow: %+v, %v; want idle", r.Position, v, err)
	}
}

// A position that no reply gave is refused at once, 400, saying what is
// wrong with it; so is one beyond the log's end, as min_seq is.
func TestQueryAfterRefusesABadPosition(t *testing.T) {
	h := newHarness(t)
	r := h.must(alice, api.ActionPresenceSet, map[string]any{"status": "active"})
	for body, says := range map[string]string{
		`{"after":"12"}`:           `starts with "v1."`,
		`{"after":"v1.x"}`:         `"x" is not a stream sequence`,
		`{"after":"v1."}`:          `"" is not a stream sequence`,
		`{"after":"v1.-3"}`:        `"-3" is not a stream sequence`,
		`{"after":"v1.1.2"}`:       "names 2 partitions",
		`{"after":7}`:              `field "after" must be a string`,
		`{"after":"v1.999999999"}`: fmt.Sprintf("beyond the stream's last sequence %d", r.StreamSeq),
	} {
		msg, err := h.c.Raw(h.ctx, "crosstalk.query.status", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		desc := msg.Header.Get(micro.ErrorHeader)
		if !strings.Contains(string(msg.Data), `"code":"`+api.CodeInvalidRequest+`"`) || !strings.Contains(desc, says) {
			t.Errorf("%s: got %s; want invalid_request saying %s", body, desc, says)
		}
	}
}

// The intake decides through the same path: its outcome's reply (the
// command reply the intake publishes and query.command answers) carries
// the position too.
func TestIntakeReplyCarriesItsPosition(t *testing.T) {
	h := newHarness(t)
	body := fmt.Sprintf(`{"command_id":%q,"actor":%q,"status":"idle"}`, "0190c2d4-0000-7000-8000-0000000000b1", alice)
	r, err := h.svc.Intake(h.ctx, events.App("instagram"), api.ActionPresenceSet, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if r.Position != api.PositionAt(r.StreamSeq) || r.StreamSeq == 0 {
		t.Fatalf("intake reply %+v: want position v1.%d", r, r.StreamSeq)
	}
}
