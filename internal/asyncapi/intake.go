package asyncapi

import (
	"reflect"
	"slices"

	"github.com/crosstalk-dev/crosstalk/api"
)

// intake adds the durable intake (docs/intake.md): a channel per command
// action that the service receives from the app's stream CROSSTALK_INTAKE_<app>, with
// no reply (the producer's answer is the stream's ack), and the outcome
// channel the service sends each decision to.
func (b *builder) intake() {
	params := map[string]any{"app": appParam}
	b.schemas.defs["IntakeHeaders"] = map[string]any{
		"type": "object", "required": []string{api.MsgIDHeader},
		"properties": map[string]any{
			api.MsgIDHeader: map[string]any{"type": "string", "description": "the subject's app, a dot and the command's command_id, as instagram.0b9d3f0e-6a51-4c8e-9d0c-2f1f1d3b7a10 (command ids are each app's own); JetStream deduplicates by it within the intake window"},
		},
	}
	conv, acct := reflect.TypeFor[api.ConversationCommand](), reflect.TypeFor[api.AccountCommand]()
	for _, a := range append(append([]string{}, api.ConversationActions...), api.AccountActions...) {
		body := conv
		if slices.Contains(api.AccountActions, a) {
			body = acct
		}
		id := "intake." + a
		msg := b.message("intake."+a, "intake command "+a+": the body of "+api.CommandSubject("{app}", a), body)
		b.messages["intake."+a].(map[string]any)["headers"] = refTo("#/components/schemas/IntakeHeaders")
		b.channels[id] = map[string]any{
			"address": api.IntakeSubject("{app}", a), "parameters": params,
			"summary":  "Durable intake of " + a + ": published to JetStream (the app's stream CROSSTALK_INTAKE_{app}), decided later exactly once; the outcome goes to crosstalk.outcome.{app}.",
			"messages": map[string]any{"command": msg},
		}
		b.operations[id] = map[string]any{
			"action": "receive", "summary": "The service decides the intake command " + a + ".",
			"channel":  refTo("#/channels/" + id),
			"messages": []any{refTo("#/channels/" + id + "/messages/command")},
		}
	}
	out := b.message("Outcome", "the decision on one intake command: its reply or its error", reflect.TypeFor[api.Outcome]())
	b.channels["outcome"] = map[string]any{
		"address": api.OutcomeSubject("{app}"), "parameters": params,
		"summary":  "Outcomes of app's intake commands (core NATS; also answered by crosstalk.query.command for the intake window).",
		"messages": map[string]any{"outcome": out},
	}
	b.operations["outcome"] = map[string]any{
		"action": "send", "summary": "The service publishes each intake command's outcome.",
		"channel":  refTo("#/channels/outcome"),
		"messages": []any{refTo("#/channels/outcome/messages/outcome")},
	}
}
