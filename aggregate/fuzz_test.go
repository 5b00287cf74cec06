package aggregate

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzParsePolicy feeds arbitrary bytes to ParsePolicy, which reads the
// policy document an operator publishes. It must never panic, must refuse
// with ErrInvalidPolicy, and a policy it accepts must
//
//   - pass Validate (ParsePolicy returns nothing Decide would refuse as
//     invalid),
//   - be storable: its Data() marshals, as events.New does when the policy
//     is published, and
//   - re-parse from that JSON to a reflect.DeepEqual policy. Both sides
//     hold EffectiveAt in UTC and Links exactly as parsed (an absent or
//     null list is refused, so never nil), so no field needs a looser
//     comparison.
//
// The seeds live in f.Add only: testdata/ here is read by datadriven.Walk
// and by TestEverySentinelHasAScenario, which would take a testdata/fuzz
// directory for a scenario file.
func FuzzParsePolicy(f *testing.F) {
	for _, s := range policySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("ParsePolicy refused with %v, want ErrInvalidPolicy", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParsePolicy accepted a policy that Validate refuses: %v", err)
		}
		doc, err := json.Marshal(p.Data())
		if err != nil {
			t.Fatalf("ParsePolicy accepted %q but its event payload cannot be encoded: %v", b, err)
		}
		again, err := ParsePolicy(doc)
		if err != nil {
			t.Fatalf("the re-marshalled policy %s does not parse: %v", doc, err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("re-parsing changed the policy:\n%#v\n%#v\ndocument %s", p, again, doc)
		}
	})
}

// policySeeds are the shipped policies (docs/policies), the contract's
// examples from testdata/parse_policy, and the edges of each rule.
var policySeeds = []string{
	`{"version": 1, "name": "cross-app-messaging-2020", "effective_at": "2020-09-30T00:00:00Z",
  "links": [
    {"from": "instagram", "to": "messenger", "start_conversation": true, "send": true, "call": true,
     "see_activity_status": true, "see_read_receipts": true},
    {"from": "messenger", "to": "instagram", "start_conversation": true, "send": true, "call": true,
     "see_activity_status": true, "see_read_receipts": true}]}`,
	`{"version": 3, "name": "dma-interop-thirdparty-birdychat-2024", "effective_at": "2024-03-07T00:00:00Z",
  "links": [
    {"from": "instagram", "to": "messenger"},
    {"from": "thirdparty-birdychat", "to": "messenger", "start_conversation": true, "send": true,
     "see_read_receipts": true, "requires_opt_in": true, "max_participants": 2},
    {"from": "messenger", "to": "thirdparty-birdychat", "start_conversation": true, "send": true,
     "see_read_receipts": true, "max_participants": 2}]}`,
	`{"version": 1, "name": "cross-app-2020", "effective_at": "2020-09-30T02:00:00+02:00",
 "links": [{"from": "instagram", "to": "messenger", "send": true, "start_conversation": true}]}`,
	`{"version":18446744073709551615,"name":"max","effective_at":"9999-12-31T23:59:59.999999999Z","links":[]}`,
	`{"version":1,"name":"no-links","effective_at":"2024-01-01T00:00:00Z","links":null}`,
	`{"version":1,"name":"a < b & \u00e9","effective_at":"2024-01-01T00:00:00-00:00"}`,
	`{"version": 3, "name": "typo", "effective_at": "2024-01-01T00:00:00Z",
 "links": [{"from": "instagram", "to": "messenger", "sned": true}]}`,
	`{"version": 3, "name": "dup", "effective_at": "2024-01-01T00:00:00Z",
 "links": [{"from": "instagram", "to": "messenger"}, {"from": "instagram", "to": "messenger"}]}`,
	`{"version":3,"name":"self","effective_at":"2024-01-01T00:00:00Z","links":[{"from":"instagram","to":"instagram"}]}`,
	`{"version":3,"name":"one","effective_at":"2024-01-01T00:00:00Z","links":[{"from":"instagram","to":"messenger","max_participants":1}]}`,
	`{"version": 3, "name": "twice", "effective_at": "2024-01-01T00:00:00Z"} {"version": 4}`,
	`{"version": -1, "name": "negative", "effective_at": "2024-01-01T00:00:00Z"}`,
	`{"version": 3, "name": "   ", "effective_at": "2024-01-01T00:00:00Z"}`,
	`{"version": 3, "name": "bad-time", "effective_at": "14 Dec 2023"}`,
	`null`,
	`[]`,
	`not json`,
}
