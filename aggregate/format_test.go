package aggregate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Output of the data-driven tests: events as `type key=value ...` in the
// order of their JSON payload, errors as `error <Sentinel>: <message>`, and
// policy links as `from->to: actions`, the syntax the policy directive reads.

var sentinels = []struct {
	name string
	err  error
}{
	{"ErrInvalid", ErrInvalid}, {"ErrWrongApp", ErrWrongApp}, {"ErrNotParticipant", ErrNotParticipant},
	{"ErrNotSender", ErrNotSender}, {"ErrConversationNotFound", ErrConversationNotFound},
	{"ErrConversationExists", ErrConversationExists}, {"ErrMessageNotFound", ErrMessageNotFound},
	{"ErrMessageExists", ErrMessageExists}, {"ErrMessageUnsent", ErrMessageUnsent},
	{"ErrCallNotFound", ErrCallNotFound}, {"ErrConversationClosed", ErrConversationClosed},
	{"ErrCrossAppNotAllowed", ErrCrossAppNotAllowed}, {"ErrCallNotAllowed", ErrCallNotAllowed},
	{"ErrPolicyVersionConflict", ErrPolicyVersionConflict}, {"ErrInvalidPolicy", ErrInvalidPolicy},
	{"ErrNotAffected", ErrNotAffected}, {"ErrUnknownCommand", ErrUnknownCommand},
	{"events.ErrInvalidName", events.ErrInvalidName},
	{"events.ErrMalformedEvent", events.ErrMalformedEvent},
}

// describeErr names every sentinel err matches (normally exactly one).
func describeErr(err error) string {
	var names []string
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			names = append(names, s.name)
		}
	}
	if len(names) == 0 {
		names = []string{"<no sentinel>"}
	}
	return "error " + strings.Join(names, "+") + ": " + err.Error()
}

func shortType(t events.Type) string {
	return strings.TrimSuffix(strings.TrimPrefix(string(t), "crosstalk."), ".v1")
}

func formatEvent(e events.Event) string {
	return shortType(e.Type) + " " + formatObject(e.Data)
}

// formatObject prints a JSON object as key=value pairs in its own key order.
func formatObject(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return string(raw)
	}
	var parts []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return string(raw)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return string(raw)
		}
		parts = append(parts, key+"="+formatValue(key, v))
	}
	return strings.Join(parts, " ")
}

func formatValue(key string, raw json.RawMessage) string {
	if key == "links" {
		var links []events.LinkData
		if err := json.Unmarshal(raw, &links); err == nil {
			return formatLinks(links)
		}
	}
	switch raw[0] {
	case '"':
		var s string
		_ = json.Unmarshal(raw, &s)
		return formatString(s)
	case '[':
		var items []json.RawMessage
		_ = json.Unmarshal(raw, &items)
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = formatValue("", it)
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case '{':
		return "{" + formatObject(raw) + "}"
	}
	return string(raw)
}

var bare = regexp.MustCompile(`^[A-Za-z0-9:_.+-]+$`)

func formatString(s string) string {
	switch {
	case len(s) > 48:
		return fmt.Sprintf("%q…(%d bytes)", s[:12], len(s))
	case bare.MatchString(s):
		return s
	}
	return strconv.Quote(s)
}

var actionNames = []string{"start_conversation", "send", "call", "see_activity_status", "see_read_receipts"}

// formatLinks prints links as (from->to: allowed actions, ...), the syntax
// the `policy` directive reads.
func formatLinks(links []events.LinkData) string {
	parts := make([]string, len(links))
	for i, l := range links {
		var allowed []string
		for a := range actionNames {
			if linkAllows(l, Action(a)) {
				allowed = append(allowed, actionNames[a])
			}
		}
		switch len(allowed) {
		case 0:
			allowed = []string{"none"}
		case len(actionNames):
			allowed = []string{"all"}
		}
		parts[i] = fmt.Sprintf("%s->%s: %s", l.From, l.To, strings.Join(allowed, " "))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// parseLink reads `from -> to: action action ...` (or `all`, `none`).
func parseLink(s string) (events.LinkData, error) {
	pair, acts, ok := strings.Cut(s, ":")
	from, to, ok2 := strings.Cut(pair, "->")
	if !ok || !ok2 {
		return events.LinkData{}, fmt.Errorf("want `from -> to: actions`, got %q", s)
	}
	l := events.LinkData{From: strings.TrimSpace(from), To: strings.TrimSpace(to)}
	for _, a := range strings.Fields(acts) {
		switch a {
		case "none":
		case "all":
			l.StartConversation, l.Send, l.Call, l.SeeActivityStatus, l.SeeReadReceipts = true, true, true, true, true
		case "start_conversation":
			l.StartConversation = true
		case "send":
			l.Send = true
		case "call":
			l.Call = true
		case "see_activity_status":
			l.SeeActivityStatus = true
		case "see_read_receipts":
			l.SeeReadReceipts = true
		default:
			return events.LinkData{}, fmt.Errorf("unknown action %q", a)
		}
	}
	return l, nil
}

func parseAction(s string) (Action, error) {
	for i, n := range actionNames {
		if n == s {
			return Action(i), nil
		}
	}
	return 0, fmt.Errorf("unknown action %q", s)
}
