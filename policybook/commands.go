package policybook

import (
	"fmt"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/codec"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Decides reports whether the policy in force decides cmd, a command on an
// aggregate whose state is st, other than a start (CrossApp sees to a
// start): on a cross-app conversation every command that asks the policy
// (send, edit, unsend, react; call.start). A read marker, a call's end, an
// account's command and anything same-app never ask it, and so need no
// Fresh. The caller holds the lock of st's aggregate, loaded.
func Decides(st any, cmd aggregate.Command) bool {
	switch cmd.(type) {
	case aggregate.StartConversation, aggregate.ReadMessage, aggregate.EndCall, aggregate.Close:
		return false
	}
	c, ok := st.(*aggregate.Conversation)
	return ok && len(c.Apps) > 1
}

// CrossApp reports whether actor and participants span more than one app:
// a start the policy in force decides.
func CrossApp(actor events.Account, participants []events.Account) bool {
	for _, p := range participants {
		if p.App() != actor.App() {
			return true
		}
	}
	return false
}

// OptInsFor returns the accounts of start whose interoperability opt-ins
// the policy in force at now needs in order to decide it: all of them when
// it has a link among their apps that requires one, else nil. A start
// naming something that is no account needs none: Decide refuses it with a
// clear message.
func (b *Book) OptInsFor(start aggregate.StartConversation, now time.Time) []events.Account {
	all := append([]events.Account{start.Actor}, start.Participants...)
	for _, a := range all {
		if _, err := events.ParseAccount(string(a)); err != nil {
			return nil
		}
	}
	if !b.At(now).NeedsOptIn(events.AppsOf(all)) {
		return nil
	}
	return all
}

// DecodePublish decodes and checks a crosstalk.admin.policy.publish body:
// its command id and the policy it publishes.
func DecodePublish(body []byte) (commandID string, p aggregate.Policy, err error) {
	var req api.PublishPolicy
	if err := codec.Decode(body, &req); err != nil {
		return "", aggregate.Policy{}, err
	}
	if err := codec.CheckUUID("command_id", req.CommandID); err != nil {
		return "", aggregate.Policy{}, err
	}
	if len(req.Policy) == 0 {
		return "", aggregate.Policy{}, fmt.Errorf("%w: the request has no policy", aggregate.ErrInvalidPolicy)
	}
	p, err = aggregate.ParsePolicy(req.Policy)
	return req.CommandID, p, err
}
