package intake

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// item is one intake message of a batch and, once decided, its outcome.
type item struct {
	msg     jetstream.Msg
	app     string
	action  string
	key     string     // the aggregate it is decided on; "" for a bad message
	bad     *api.Error // why it is refused before any decision
	outcome api.Outcome
	retry   bool // refused for a reason that passes: deliver it again
	// left is set when the lease was lost before it was decided: it is
	// neither decided, nor acknowledged, nor refused, but left for the new
	// holder, whose consumer gets it again.
	left bool
}

// envelope is what grouping reads of a body: the command's id and
// aggregate. Anything else is the Decider's to read.
type envelope struct {
	CommandID      string `json:"command_id"`
	Actor          string `json:"actor"`
	ConversationID string `json:"conversation_id"`
}

// parse reads msg's app and action from its subject, its command id from
// Nats-Msg-Id (api.IntakeMsgID: the app's name, a dot, the command id) and
// its aggregate from its body. A message the Decider would refuse anyway
// (not JSON, an unknown action) gets a key of its own, so that it never
// holds up another.
func parse(msg jetstream.Msg) *item {
	it := &item{msg: msg}
	rest := strings.TrimPrefix(msg.Subject(), api.IntakePrefix)
	it.app, it.action, _ = strings.Cut(rest, ".")
	header := msg.Headers().Get(api.MsgIDHeader)
	it.outcome = api.Outcome{App: it.app, Action: it.action, IntakeSeq: seqOf(msg)}
	id, scoped := strings.CutPrefix(header, it.app+".")
	if !scoped || id == "" {
		// The id is not this app's: keeping an outcome under it could
		// answer for another app's command.
		it.bad = badMessage("an intake message needs the %s header %s, the app's name, a dot and its command_id "+
			"(JetStream deduplicates the intake across apps); got %s", api.MsgIDHeader,
			events.Quote(api.IntakeMsgID(it.app, "<command_id>")), events.Quote(header))
		return it
	}
	it.outcome.CommandID = id
	var env envelope
	if err := json.Unmarshal(msg.Data(), &env); err != nil {
		it.key = seqKey(it.app, it.outcome.IntakeSeq)
		return it
	}
	if env.CommandID != id {
		it.bad = badMessage("the %s header %s does not end in the body's command_id %s", api.MsgIDHeader,
			events.Quote(header), events.Quote(env.CommandID))
		return it
	}
	it.key = keyOf(events.App(it.app), it.action, env, it.outcome.IntakeSeq)
	return it
}

// keyOf names the aggregate a command of app is decided on: the account
// of an account command, the conversation of a conversation command (a
// start without id: the one derived from its app and command id).
func keyOf(app events.App, action string, env envelope, seq uint64) string {
	switch {
	case slices.Contains(api.AccountActions, action):
		return "account:" + env.Actor
	case env.ConversationID != "":
		return "conversation:" + env.ConversationID
	case action == api.ActionConversationStart && env.CommandID != "":
		return "conversation:" + events.ConversationIDFor(app, env.CommandID)
	}
	return seqKey(string(app), seq) // refused by the Decider
}

// seqKey is the key of a message of app that names no aggregate: its own
// (sequences are per app's stream, so the app is part of it).
func seqKey(app string, seq uint64) string {
	return "seq:" + app + ":" + strconv.FormatUint(seq, 10)
}

func seqOf(msg jetstream.Msg) uint64 {
	md, err := msg.Metadata()
	if err != nil {
		return 0
	}
	return md.Sequence.Stream
}

// badMessage is the refusal of a message that is no intake command.
func badMessage(format string, args ...any) *api.Error {
	return &api.Error{Status: api.StatusOf(api.CodeInvalidRequest), Code: api.CodeInvalidRequest,
		Message: fmt.Sprintf(format, args...)}
}
