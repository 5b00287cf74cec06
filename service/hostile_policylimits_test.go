package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/service"
)

// The class "policy limits": policies an admin (or a stolen admin
// credential) can publish that are too big, too many or numbered to break
// what comes after.

var _ = hostile("policy limits", "publishes a policy of 9,000 links, whose event exceeds the max payload", func(t *testing.T) {
	h := newHarness(t)
	e := h.refusedPublish(api.CodeInvalidPolicy, manyLinks(1, 9000, false))
	if !strings.Contains(e.Message, fmt.Sprint(api.MaxPolicyLinks)) {
		t.Fatalf("the refusal does not name the limit of %d links: %s", api.MaxPolicyLinks, e.Message)
	}
	h.publish(manyLinks(1, api.MaxPolicyLinks, true)) // the limit itself is accepted
})

var _ = hostile("policy limits", "publishes a policy within the link limit but over the size limit", func(t *testing.T) {
	h := newHarness(t)
	long := func(i int) string { return fmt.Sprintf("a%02d-%s", i, strings.Repeat("x", 28)) } // 32 characters
	all := `,"start_conversation":true,"send":true,"call":true,"see_activity_status":true,"see_read_receipts":true` +
		`,"requires_opt_in":true,"max_participants":9223372036854775807`
	e := h.refusedPublish(api.CodeInvalidPolicy, policyOfLinks(1, api.MaxPolicyLinks, long, all))
	if !strings.Contains(e.Message, fmt.Sprint(api.MaxPolicyBytes)) {
		t.Fatalf("the refusal does not name the limit of %d bytes: %s", api.MaxPolicyBytes, e.Message)
	}
})

var _ = hostile("policy limits", "had two 4,500-link policies accepted, then asks for the report", func(t *testing.T) {
	h := newHarness(t)
	h.appendPolicy(1, 4500)
	h.appendPolicy(2, 4500)
	h.restart(service.Options{}) // loads them as a service that accepted them would have
	var rep api.PolicyReport
	if err := h.c.Query(h.ctx, api.QueryPolicy, map[string]any{}, &rep); err != nil {
		t.Fatalf("query.policy: %v", err)
	}
	if len(rep.Versions) != 2 || rep.Versions[1].LinkCount != 4500 || rep.Versions[1].Links != nil {
		t.Fatalf("want two versions of 4500 links, the links left out: %+v", rep.Versions)
	}
	links, pages := 0, 0
	for q := (api.PolicyQuery{Version: 2, Links: true}); ; pages++ {
		var page api.PolicyReport
		if err := h.c.Query(h.ctx, api.QueryPolicy, q, &page); err != nil {
			t.Fatalf("links of version 2, page %d: %v", pages, err)
		}
		links += len(page.Versions[0].Links)
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			break
		}
	}
	if links != 4500 || pages < 4500/api.MaxPageSize {
		t.Fatalf("paging the links of version 2: %d links in %d pages", links, pages)
	}
})

var _ = hostile("policy limits", "publishes version 2^64-1, then 2^53, then a jump past the step", func(t *testing.T) {
	h := newHarness(t)
	for _, v := range []uint64{1<<64 - 1, 1 << 53, api.MaxPolicyVersionStep + 1} {
		h.refusedPublish(api.CodeInvalidPolicy, json.RawMessage(fmt.Sprintf(
			`{"version":%d,"name":"far","effective_at":"2020-01-01T00:00:00Z","links":[]}`, v)))
	}
	h.publish(json.RawMessage(fmt.Sprintf(`{"version":%d,"name":"stepped","effective_at":"2020-01-01T00:00:00Z","links":[]}`,
		uint64(api.MaxPolicyVersionStep))))
	// The space is not used up: a later publish is still accepted.
	h.publish(json.RawMessage(fmt.Sprintf(`{"version":%d,"name":"next","effective_at":"2020-01-01T00:00:00Z","links":[]}`,
		uint64(api.MaxPolicyVersionStep)+1)))
})

var _ = hostile("policy limits", `publishes "links": null or no links at all`, func(t *testing.T) {
	h := newHarness(t)
	for _, doc := range []string{
		`{"version":1,"name":"null","effective_at":"2020-01-01T00:00:00Z","links":null}`,
		`{"version":1,"name":"absent","effective_at":"2020-01-01T00:00:00Z"}`,
	} {
		e := h.refusedPublish(api.CodeInvalidPolicy, json.RawMessage(doc))
		if !strings.Contains(e.Message, "links") {
			t.Fatalf("%s: the refusal does not name links: %s", doc, e.Message)
		}
	}
})

var _ = hostile("policy limits", "starts a conversation with 257 participants", func(t *testing.T) {
	h := newHarness(t)
	many := make([]string, api.MaxParticipants)
	for i := range many {
		many[i] = fmt.Sprintf("instagram:p%d", i)
	}
	e := h.refused(api.CodeInvalidRequest, alice, "conversation.start", map[string]any{"participants": many})
	if !strings.Contains(e.Message, fmt.Sprint(api.MaxParticipants)) {
		t.Fatalf("the refusal does not name the limit of %d: %s", api.MaxParticipants, e.Message)
	}
})

// TestLimitsOfTheContractAreTheRules pins api's limits, which producers
// read, to the rules that enforce them. The aggregate's rules read api's
// limits themselves (one source); the error message's bound is events'.
func TestLimitsOfTheContractAreTheRules(t *testing.T) {
	for _, c := range []struct {
		name       string
		api, rules uint64
	}{
		{"MaxQuoted", api.MaxQuoted, uint64(len(events.Quote(strings.Repeat("q", 100)))) - uint64(len(`""…`))},
	} {
		if c.api != c.rules {
			t.Errorf("api.%s is %d, the rules hold %d", c.name, c.api, c.rules)
		}
	}
}

// manyLinks is a policy document of version v with n distinct links among
// apps a00..a99, all flags false unless all.
func manyLinks(v uint64, n int, all bool) json.RawMessage {
	extra := ""
	if all {
		extra = `,"start_conversation":true,"send":true,"call":true,"see_activity_status":true,"see_read_receipts":true`
	}
	return policyOfLinks(v, n, func(i int) string { return fmt.Sprintf("a%02d", i) }, extra)
}

// policyOfLinks is a policy document of version v with n distinct links
// among the apps app(0)..app(99), each link with the fields extra.
func policyOfLinks(v uint64, n int, app func(int) string, extra string) json.RawMessage {
	var b strings.Builder
	fmt.Fprintf(&b, `{"version":%d,"name":"many","effective_at":"2020-01-01T00:00:00Z","links":[`, v)
	for i, k := 0, 0; k < n; i++ {
		from, to := i/100, i%100
		if from == to {
			continue
		}
		if k > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"from":%q,"to":%q%s}`, app(from), app(to), extra)
		k++
	}
	b.WriteString("]}")
	return json.RawMessage(b.String())
}

// refusedPublish checks that publishing doc fails with code and appends
// nothing.
func (h *harness) refusedPublish(code string, doc json.RawMessage) *client.Error {
	h.t.Helper()
	before := h.lastSeq()
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	_, err := h.c.PublishPolicy(ctx, uuid.NewString(), doc)
	if got := client.CodeOf(err); got != code {
		h.t.Fatalf("publish: want %s, got %v", code, err)
	}
	if after := h.lastSeq(); after != before {
		h.t.Fatalf("a refused publish appended: last seq %d, then %d", before, after)
	}
	return err.(*client.Error)
}

// appendPolicy appends a policy.published event of version v with n links
// straight to the log, as a service without the limits accepted it: the
// policy is past today's limits, so no publish can make it.
func (h *harness) appendPolicy(v uint64, n int) {
	h.t.Helper()
	var d events.PolicyPublishedData
	if err := json.Unmarshal(manyLinks(v, n, false), &d); err != nil {
		h.t.Fatal(err)
	}
	msgs, err := h.log.Load(h.ctx, events.PolicySubject, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	ev, err := events.New(events.PolicyPublished, "policy", seedStart, uuid.NewString(), 0, d)
	if err != nil {
		h.t.Fatal(err)
	}
	ev.ID, ev.StreamVersion = uuid.NewString(), uint64(len(msgs))+1
	var after uint64
	if len(msgs) > 0 {
		last := msgs[len(msgs)-1]
		ev.PrevHash, after = events.Hash(last.Data), last.Seq
	}
	data, err := events.Encode(ev)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, _, err := h.log.Append(h.ctx, events.PolicySubject, after, ev.ID, data); err != nil {
		h.t.Fatal(err)
	}
}
