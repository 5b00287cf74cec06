package asyncapi

import (
	"reflect"
	"slices"
	"strings"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// appParam is the {app} parameter of a command subject.
var appParam = map[string]any{
	"description": "The app whose accounts the command is for: a lowercase name (events.App, docs/contract.md \"Names\").",
}

// endpoint adds request channel id at address, its reply channel, and the
// service's operation: receive the request, reply with reply or an error.
func (b *builder) endpoint(id, address string, params map[string]any, summary string, req, reply reflect.Type) {
	ch := map[string]any{
		"address": address, "summary": summary,
		"messages": map[string]any{"request": b.message(req.Name(), "request of "+address, req)},
	}
	if len(params) > 0 {
		ch["parameters"] = params
	}
	b.channels[id] = ch
	b.channels[id+".reply"] = map[string]any{
		"address": nil, "summary": "the reply to " + address + ", on the request's NATS reply subject",
		"messages": map[string]any{
			"reply": b.message(reply.Name(), "success reply", reply),
			"error": refTo("#/components/messages/error"),
		},
	}
	b.operations[id] = map[string]any{
		"action": "receive", "summary": summary,
		"channel":  refTo("#/channels/" + id),
		"messages": []any{refTo("#/channels/" + id + "/messages/request")},
		"reply": map[string]any{
			"channel": refTo("#/channels/" + id + ".reply"),
			"messages": []any{
				refTo("#/channels/" + id + ".reply/messages/reply"),
				refTo("#/channels/" + id + ".reply/messages/error"),
			},
		},
	}
}

// commands adds every command endpoint and the admin publish.
func (b *builder) commands() {
	params := map[string]any{"app": appParam}
	conv, reply := reflect.TypeFor[api.ConversationCommand](), reflect.TypeFor[api.CommandReply]()
	for _, a := range api.ConversationActions {
		summary := "Command " + a + ": a ConversationCommand with command_id, actor and only " +
			strings.Join(api.ActionFields[a], ", ") + "; any other field is refused."
		b.endpoint("cmd."+a, api.CommandSubject("{app}", a), params, summary, conv, reply)
	}
	acct := reflect.TypeFor[api.AccountCommand]()
	b.endpoint("cmd."+api.ActionPresenceSet, api.CommandSubject("{app}", api.ActionPresenceSet), params,
		"Command presence.set: an AccountCommand with command_id, actor and status only.", acct, reply)
	b.endpoint("cmd."+api.ActionSettingsSet, api.CommandSubject("{app}", api.ActionSettingsSet), params,
		"Command settings.set: an AccountCommand with command_id, actor and the settings to change.", acct, reply)
	b.endpoint("cmd."+api.ActionAccountErase, api.CommandSubject("{app}", api.ActionAccountErase), params,
		"Command account.erase: an AccountCommand with command_id and actor only; erases the actor's account "+
			"(its sealed content can no longer be opened). The account itself, its app's backend or the admin may.", acct, reply)
	b.endpoint("admin.policy.publish", api.AdminPublish, nil,
		"Publish a policy version (admin only): the policy document of docs/policy.md as JSON.",
		reflect.TypeFor[api.PublishPolicy](), reflect.TypeFor[api.PublishReply]())
	b.endpoint("admin.views.rebuild", api.AdminViewsRebuild, nil,
		"Rebuild the read model online (admin only): the current views answer until the rebuilt ones "+
			"have caught up with the log and take over; progress in crosstalk.query.status.",
		reflect.TypeFor[api.RebuildViews](), reflect.TypeFor[api.RebuildReply]())
	node := map[string]any{"node": map[string]any{
		"description": "a node's id (serve --node-id, the Crosstalk-Node header): this node alone answers"}}
	b.endpoint("admin.node.views.rebuild", api.AdminNodeViewsRebuild("{node}"), node,
		"Rebuild this node's read model online (admin only), as admin.views.rebuild does for whichever node "+
			"answers; a node without a read model refuses it (invalid_request).",
		reflect.TypeFor[api.RebuildViews](), reflect.TypeFor[api.RebuildReply]())
	b.endpoint("admin.node.status", api.AdminNodeStatus("{node}"), node,
		"This node's status (admin only), as crosstalk.query.status answers it; also from a node "+
			"without the queries role.",
		reflect.TypeFor[api.StatusRequest](), reflect.TypeFor[api.Status]())
}

// queries adds every query endpoint.
func (b *builder) queries() {
	for _, q := range Queries {
		b.endpoint("query."+q.Name, api.QuerySubject(q.Name), nil, "Query "+q.Name+".", q.Request, q.Reply)
	}
}

// eventChannels are the channels of the stream, by subject kind.
var eventChannels = []struct {
	id, address string
	kind        events.SubjectKind
	params      map[string]any
}{
	{"events.conversation", events.ConversationSubject("{conversation_id}"), events.SubjectConversation,
		map[string]any{"conversation_id": map[string]any{"description": "the conversation's id, a UUID"}}},
	{"events.account", events.AccountSubject("{app}:{handle}"), events.SubjectAccount,
		map[string]any{"app": appParam, "handle": map[string]any{"description": "the account's handle in its app"}}},
	{"events.policy", events.PolicySubject, events.SubjectPolicy, nil},
}

// events adds the stream's channels, one message per event type, and the
// audit stream's refusals.
func (b *builder) events() {
	envelope := b.schemas.ref(reflect.TypeFor[events.Event]())
	b.schemas.defs["EventHeaders"] = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"Nats-Msg-Id":          map[string]any{"type": "string", "description": "the event id, for JetStream's deduplication"},
			events.SignatureHeader: map[string]any{"type": "string", "description": "the event's signature (docs/security.md), when the node signs"},
		},
	}
	for _, c := range eventChannels {
		msgs := map[string]any{}
		for _, info := range events.Registry {
			if info.Subject == c.kind {
				msgs[string(info.Type)] = b.event(info.Type, envelope, reflect.TypeOf(info.New()).Elem())
			}
		}
		b.stored(c.id, c.address, c.params, "Events of the CROSSTALK stream, in order; the history.", msgs)
	}
	var forbidden []string
	for _, code := range api.Codes() {
		if api.StatusOf(code) == "403" {
			forbidden = append(forbidden, code)
		}
	}
	b.stored("audit.rejected", events.RejectedSubject("{app}", "{code}"), map[string]any{
		"app":  appParam,
		"code": map[string]any{"enum": forbidden, "description": "the 403 code the command was refused with"},
	}, "Commands refused by a 403 decision, in the size-limited CROSSTALK_AUDIT stream: evidence, not history.",
		map[string]any{string(events.CommandRejected): b.event(events.CommandRejected, envelope, reflect.TypeFor[events.CommandRejectedData]())})
}

// stored adds a channel of a stream and the service's operation sending to it.
func (b *builder) stored(id, address string, params map[string]any, summary string, msgs map[string]any) {
	ch := map[string]any{"address": address, "summary": summary, "messages": msgs}
	if len(params) > 0 {
		ch["parameters"] = params
	}
	b.channels[id] = ch
	var refs []any
	for _, name := range sortedKeys(msgs) {
		refs = append(refs, refTo("#/channels/"+id+"/messages/"+name))
	}
	b.operations[id] = map[string]any{
		"action": "send", "summary": "The service appends to " + address + ".",
		"channel": refTo("#/channels/" + id), "messages": refs,
	}
}

// event defines the message of event type t: the CloudEvents envelope
// with data of payload type data.
func (b *builder) event(t events.Type, envelope map[string]any, data reflect.Type) map[string]any {
	name := string(t)
	b.messages[name] = map[string]any{
		"name": name, "summary": "CloudEvents 1.0 event " + name + " in structured JSON mode.",
		"contentType": "application/cloudevents+json",
		"headers":     refTo("#/components/schemas/EventHeaders"),
		"payload": map[string]any{"allOf": []any{envelope, map[string]any{
			"properties": map[string]any{
				"type": map[string]any{"const": name},
				"data": b.schemas.ref(data),
			},
		}}},
	}
	return refTo("#/components/messages/" + name)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
