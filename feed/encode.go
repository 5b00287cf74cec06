package feed

import (
	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/jsonenc"
)

// appendNotification appends n's JSON, byte for byte json.Marshal's, to
// b. It writes by hand, without reflection, because it runs for every note
// of every event; a text json.Marshal would escape (not printable ASCII, a
// quote, a backslash, an HTML character) goes to json.Marshal instead
// (TestAppendNotification).
func appendNotification(b []byte, n *api.Notification) []byte {
	start := len(b)
	w := jsonenc.NewWriter(b)
	w.Raw(`{"seq":`).Uint(n.Seq).Raw(`,"n":`).Uint(n.N).Raw(`,"kind":`).Str(n.Kind)
	w.Opt(`,"conversation_id":`, n.ConversationID).Opt(`,"account":`, n.Account)
	w.Raw(`,"at":`).Time(n.At)
	w.Opt(`,"message_id":`, n.MessageID).Opt(`,"text":`, n.Text).Opt(`,"reaction":`, n.Reaction)
	if len(n.Participants) > 0 {
		jsonenc.Strs(w.Raw(`,"participants":`), n.Participants)
	}
	if n.CrossApp {
		w.Raw(`,"cross_app":true`)
	}
	w.Opt(`,"reason":`, n.Reason)
	if n.PolicyVersion != 0 {
		w.Raw(`,"policy_version":`).Uint(n.PolicyVersion)
	}
	w.Opt(`,"call_id":`, n.CallID).Opt(`,"media":`, n.Media).Opt(`,"status":`, n.Status)
	w.OptBool(`,"activity_status":`, n.ActivityStatus).OptBool(`,"read_receipts":`, n.ReadReceipts)
	if out, ok := w.Raw("}").Bytes(); ok {
		return out
	}
	out, err := json.Marshal(n)
	if err != nil { // a Notification always encodes; keep the frame valid anyway
		return append(b[:start], "{}"...)
	}
	return append(b[:start], out...)
}
