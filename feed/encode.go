package feed

import (
	"strconv"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/internal/jsonenc"
)

// appendNotification appends n's JSON, byte for byte json.Marshal's, to
// b. It writes by hand, without reflection, because it runs for every note
// of every event; a text json.Marshal would escape (not printable ASCII, a
// quote, a backslash, an HTML character) goes to json.Marshal instead
// (TestAppendNotification).
func appendNotification(b []byte, n *api.Notification) []byte {
	start := len(b)
	w := writer{b: b, ok: true}
	w.raw(`{"seq":`).uint(n.Seq).raw(`,"n":`).uint(n.N).raw(`,"kind":`).str(n.Kind)
	w.opt(`,"conversation_id":`, n.ConversationID).opt(`,"account":`, n.Account)
	w.raw(`,"at":"`)
	if at, err := n.At.AppendText(w.b); err == nil { // what Time.MarshalJSON quotes
		w.b = append(at, '"')
	} else {
		w.ok = false
	}
	w.opt(`,"message_id":`, n.MessageID).opt(`,"text":`, n.Text).opt(`,"reaction":`, n.Reaction)
	if len(n.Participants) > 0 {
		w.raw(`,"participants":[`)
		for i, p := range n.Participants {
			if i > 0 {
				w.raw(",")
			}
			w.str(p)
		}
		w.raw("]")
	}
	if n.CrossApp {
		w.raw(`,"cross_app":true`)
	}
	w.opt(`,"reason":`, n.Reason)
	if n.PolicyVersion != 0 {
		w.raw(`,"policy_version":`).uint(n.PolicyVersion)
	}
	w.opt(`,"call_id":`, n.CallID).opt(`,"media":`, n.Media).opt(`,"status":`, n.Status)
	w.optBool(`,"activity_status":`, n.ActivityStatus).optBool(`,"read_receipts":`, n.ReadReceipts)
	if w.raw("}"); w.ok {
		return w.b
	}
	out, err := json.Marshal(n)
	if err != nil { // a Notification always encodes; keep the frame valid anyway
		return append(b[:start], "{}"...)
	}
	return append(b[:start], out...)
}

// writer appends JSON; ok turns false at the first text it would have to
// escape.
type writer struct {
	b  []byte
	ok bool
}

func (w *writer) raw(s string) *writer { w.b = append(w.b, s...); return w }

func (w *writer) uint(n uint64) *writer { w.b = strconv.AppendUint(w.b, n, 10); return w }

func (w *writer) str(s string) *writer {
	if !jsonenc.Plain(s) {
		w.ok = false
	}
	w.b = append(append(append(w.b, '"'), s...), '"')
	return w
}

// opt writes key and s unless s is empty (omitempty).
func (w *writer) opt(key, s string) *writer {
	if s != "" {
		w.raw(key).str(s)
	}
	return w
}

func (w *writer) optBool(key string, v *bool) *writer {
	if v != nil {
		w.raw(key).raw(strconv.FormatBool(*v))
	}
	return w
}
