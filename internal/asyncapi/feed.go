package asyncapi

import (
	"reflect"
	"strings"

	"github.com/crosstalk-dev/crosstalk/api"
)

// feed adds the live feeds (docs/feeds.md): one channel per account that
// the service sends each of its notifications to.
func (b *builder) feed() {
	params := map[string]any{
		"app":    appParam,
		"handle": map[string]any{"description": "The account's handle: [A-Za-z0-9_-]{1,64} (docs/contract.md \"Names\")."},
	}
	msg := b.message("Notification", "one change as the feed's account may see it; kinds: "+
		strings.Join(api.NotificationKinds, ", "), reflect.TypeFor[api.Notification]())
	b.channels["feed"] = map[string]any{
		"address": api.FeedSubject("{app}:{handle}"), "parameters": params,
		"summary":  "Live feed of account {app}:{handle} (core NATS, at most once, in order per account; seq is the event's stream sequence, n the feed's counter, a jump in n is a gap: resync with min_seq).",
		"messages": map[string]any{"notification": msg},
	}
	b.operations["feed"] = map[string]any{
		"action": "send", "summary": "The service publishes each account's notifications after the read model commits them.",
		"channel":  refTo("#/channels/feed"),
		"messages": []any{refTo("#/channels/feed/messages/notification")},
	}
}
