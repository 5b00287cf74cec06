package intake

import (
	"slices"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// A command is grouped on the aggregate it is decided on: the account of an
// account command, the conversation of a conversation command, the derived
// conversation of a start without id; one the Decider will refuse anyway
// gets a group of its own.
func TestKeyOf(t *testing.T) {
	const id, conv = "0b9d3f0e-6a51-4c8e-9d0c-2f1f1d3b7a10", "fa9a2bb0-b198-5618-8733-60f6febc6ba4"
	for _, c := range []struct {
		action string
		env    envelope
		want   string
	}{
		{api.ActionPresenceSet, envelope{CommandID: id, Actor: "instagram:alice"}, "account:instagram:alice"},
		{api.ActionSettingsSet, envelope{CommandID: id, Actor: "instagram:alice", ConversationID: conv}, "account:instagram:alice"},
		{api.ActionMessageSend, envelope{CommandID: id, ConversationID: conv}, "conversation:" + conv},
		{api.ActionConversationStart, envelope{CommandID: id, ConversationID: conv}, "conversation:" + conv},
		{api.ActionConversationStart, envelope{CommandID: id}, "conversation:" + events.ConversationIDFor("instagram", id)},
		{api.ActionMessageSend, envelope{CommandID: id}, "seq:instagram:7"},
		{api.ActionConversationStart, envelope{}, "seq:instagram:7"},
	} {
		if got := keyOf("instagram", c.action, c.env, 7); got != c.want {
			t.Errorf("%s %+v: %s, want %s", c.action, c.env, got, c.want)
		}
	}
}

// Only an id that is a valid key of the outcomes bucket is put there: a
// wildcard, a space or an empty token would be another subject or none.
func TestValidKey(t *testing.T) {
	for id, ok := range map[string]bool{
		"0b9d3f0e-6a51-4c8e-9d0c-2f1f1d3b7a10": true, "a.b": true, "A_b=c/d": true,
		"": false, ".a": false, "a.": false, "a..b": false, "a b": false, "a*": false, "a>": false, "é": false,
	} {
		if validKey(id) != ok {
			t.Errorf("validKey(%q) = %v, want %v", id, !ok, ok)
		}
	}
}

// The defaults are the spec's.
func TestOptionsDefaults(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	if o.Window != DefaultWindow || o.Batch != DefaultBatch || o.Workers != DefaultWorkers || o.RetryDelay != DefaultRetryDelay ||
		o.AppLimit != 100_000 || o.AppMaxBytes != 1<<30 {
		t.Fatalf("defaults: %+v", o)
	}
	if DefaultWindow.Minutes() != 10 || DefaultBatch != 256 || AckWait.Seconds() != 30 || MaxAckPending != 8192 {
		t.Fatal("the spec's defaults changed")
	}
	cfg := streamConfig("instagram", o)
	if cfg.Name != "CROSSTALK_INTAKE_instagram" || !slices.Equal(cfg.Subjects, []string{"crosstalk.intake.instagram", "crosstalk.intake.instagram.>"}) ||
		cfg.Duplicates != o.Window || cfg.MaxMsgSize != 0 || cfg.Discard != jetstream.DiscardNew || cfg.MaxMsgs != o.AppLimit || cfg.MaxBytes != o.AppMaxBytes {
		t.Fatalf("stream config: %+v", cfg)
	}
}
