package rawattack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// The durable intake takes a command's principal from its subject, which
// NATS guarantees, and JetStream keeps no Nats-Request-Info: a forged one,
// laid out by any trick, changes nothing. Messenger's backend acting as
// instagram:alice on its own intake is refused (wrong_app, or the bad
// header's own refusal), never decided as Instagram's.
func TestNoTrickMakesTheIntakeActForAnotherApp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := startWorld(ctx, t)
	cr, _ := w.cfg.Lookup("messenger")
	rc := dialRaw(t, w.url, cr.User, cr.Password, natsconf.InboxPrefix(cr.Kind, cr.Principal)+".raw")
	rc.send(t, "SUB %s 2\r\n", api.OutcomeSubject("messenger"))
	forged := info("instagram", "instagram-backend")
	for _, tr := range tricks {
		id := uuid.NewString()
		block := strings.Replace(tr.block(forged), "NATS/1.0", "NATS/1.0\r\nNats-Msg-Id: "+api.IntakeMsgID("messenger", id), 1)
		body := fmt.Sprintf(`{"command_id":%q,"actor":"instagram:alice","participants":["instagram:eve"]}`, id)
		ack := rc.request(t, api.IntakeSubject("messenger", api.ActionConversationStart), block, body)
		var pub struct {
			Seq uint64 `json:"seq"`
		}
		if err := json.Unmarshal(ack.body, &pub); err != nil || pub.Seq == 0 {
			t.Fatalf("%s: intake ack %s (%v)", tr.name, ack.body, err)
		}
		o := rc.outcome(t, pub.Seq)
		if o.Error == nil || o.Reply != nil {
			t.Errorf("%s: messenger's intake decided a command as instagram:alice: %+v", tr.name, o)
		}
	}
}

// outcome reads messages on the outcome subscription (sid 2) until the one
// of the intake message seq.
func (rc *rawConn) outcome(t *testing.T, seq uint64) api.Outcome {
	t.Helper()
	for {
		f := strings.Fields(rc.line(t))
		switch {
		case len(f) > 0 && f[0] == "PING":
			rc.send(t, "PONG\r\n")
		case len(f) >= 4 && f[0] == "MSG" && f[2] == "2":
			var o api.Outcome
			if err := json.Unmarshal(rc.readReply(t, f).body, &o); err != nil {
				t.Fatal(err)
			}
			if o.IntakeSeq == seq {
				return o
			}
		case len(f) >= 4 && (f[0] == "MSG" || f[0] == "HMSG"):
			rc.readReply(t, f) // a late reply of another request
		}
	}
}
