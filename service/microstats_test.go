package service_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
)

// TestMicroStatsCountWhatTheClientGot asks $SRV.STATS, as `nats micro stats
// crosstalk` does, after three refused sends: they are three errors, and
// their time runs from receipt to the reply the client got, not to the
// return of a handler that only handed the request on.
func TestMicroStatsCountWhatTheClientGot(t *testing.T) {
	h := newHarness(t)
	h.publishFile("v1-2020-cross-app.json")
	missing := uuid.NewString()
	for range 3 {
		h.refused(api.CodeConversationNotFound, "instagram:alice", "message.send", map[string]any{
			"conversation_id": missing, "message_id": uuid.NewString(), "text": "hi"})
	}
	subject, err := micro.ControlSubject(micro.StatsVerb, api.ServiceName, "")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := h.nc.Request(subject, nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var st micro.Stats
	if err := json.Unmarshal(msg.Data, &st); err != nil {
		t.Fatal(err)
	}
	byName := map[string]*micro.EndpointStats{}
	for _, e := range st.Endpoints {
		byName[e.Name] = e
	}
	send, publish := byName["message_send"], byName["policy_publish"]
	if send == nil || publish == nil {
		t.Fatalf("stats lack message_send or policy_publish: %s", msg.Data)
	}
	if send.NumRequests != 3 || send.NumErrors != 3 {
		t.Errorf("message_send: %d requests, %d errors; want 3 and 3", send.NumRequests, send.NumErrors)
	}
	if send.LastError == "" || send.AverageProcessingTime <= 0 {
		t.Errorf("message_send: last error %q, average %v", send.LastError, send.AverageProcessingTime)
	}
	if publish.NumRequests != 1 || publish.NumErrors != 0 {
		t.Errorf("policy_publish: %d requests, %d errors; want 1 and 0", publish.NumRequests, publish.NumErrors)
	}
}
