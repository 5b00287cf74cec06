package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Every 403 decision leaves a command.rejected record in CROSSTALK_AUDIT,
// filterable by app and code; 400s leave none.
func TestRefusedCommandsAreRecorded(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	conv := h.must(alice, "conversation.start", map[string]any{"participants": []events.Account{bob}}).ConversationID
	h.clock.Set(dec12)
	h.publishFile("v2-2023-12-cross-app-disconnect.json")
	h.clock.Set(dec15)
	h.waitApplied(2)
	h.refused("cross_app_not_allowed", alice, "conversation.start", map[string]any{"participants": []events.Account{bob}})
	h.refused("conversation_closed", bob, "message.send", map[string]any{"conversation_id": conv, "text": "hi?"})
	h.refused("invalid_request", bob, "message.send", map[string]any{"conversation_id": conv, "text": 5})
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	if err := h.audit.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var got []events.CommandRejectedData
	err := h.audit.Read(ctx, events.RejectedSubject("instagram", "cross_app_not_allowed"), func(m events.Message) error {
		e, err := events.Decode(m.Data)
		if err != nil {
			return err
		}
		var d events.CommandRejectedData
		if err := e.DecodeData(&d); err != nil {
			return err
		}
		got = append(got, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Actor != alice || got[0].Action != "conversation.start" || got[0].PolicyVersion != 2 || len(got[0].Participants) != 1 {
		t.Fatalf("the refused start is on record: %+v", got)
	}
	all := 0
	if err := h.audit.Read(ctx, "", func(events.Message) error { all++; return nil }); err != nil {
		t.Fatal(err)
	}
	if all != 2 {
		t.Fatalf("two 403s recorded, no 400: got %d records", all)
	}
}
