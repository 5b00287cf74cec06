package service_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/asyncapi"
)

// docParam is a channel parameter of docs/asyncapi.yaml, one token of a
// subject: a NATS "*".
var docParam = regexp.MustCompile(`\{[a-z_]+\}`)

// docs/asyncapi.yaml names every subject the running service registers, as
// micro INFO reports them, and no endpoint it does not; its other channels
// are subjects of the streams.
func TestAsyncAPINamesEverySubject(t *testing.T) {
	h := newHarness(t)
	subject, err := micro.ControlSubject(micro.InfoVerb, api.ServiceName, "")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := h.nc.Request(subject, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var info micro.Info
	if err := json.Unmarshal(msg.Data, &info); err != nil {
		t.Fatal(err)
	}
	var registered []string
	for _, e := range info.Endpoints { // the node's own subjects, as the document parametrises them
		registered = append(registered, strings.Replace(e.Subject, api.AdminNodePrefix+harnessNode+".", api.AdminNodePrefix+"*.", 1))
	}
	if len(registered) < len(api.ConversationActions)+len(api.AccountActions)+7 {
		t.Fatalf("micro INFO lists only %v", registered)
	}

	raw, err := os.ReadFile("../docs/asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := asyncapi.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	var endpoints []string
	for id, ch := range doc["channels"].(map[string]any) {
		addr, _ := ch.(map[string]any)["address"].(string)
		subject := docParam.ReplaceAllString(addr, "*")
		switch {
		case addr == "": // a reply channel: the request's reply subject
		case strings.HasPrefix(addr, api.IntakePrefix), strings.HasPrefix(addr, api.OutcomePrefix):
			// the durable intake: a stream the service consumes, and the outcomes it publishes
		case strings.HasPrefix(addr, api.FeedPrefix): // the live feeds the views publish
		case strings.HasPrefix(addr, "crosstalk.events."), strings.HasPrefix(addr, "crosstalk.audit."):
			if !matches(events.StreamSubjects, subject) && !matches(events.AuditSubjects, subject) {
				t.Errorf("channel %s: %s is in neither stream", id, addr)
			}
		default:
			endpoints = append(endpoints, subject)
		}
	}
	slices.Sort(registered)
	slices.Sort(endpoints)
	if !slices.Equal(registered, endpoints) {
		t.Errorf("the service registers\n%v\ndocs/asyncapi.yaml has\n%v", registered, endpoints)
	}
}

// matches reports whether subject (tokens, or "*") falls under filter,
// which ends in ">".
func matches(filter, subject string) bool {
	return strings.HasPrefix(subject, strings.TrimSuffix(filter, ">"))
}
