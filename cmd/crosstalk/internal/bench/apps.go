package bench

import (
	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/docs/policies"
	"github.com/crosstalk-dev/crosstalk/events"
)

// appA and appB are the two apps the workloads use, read from the first
// link of the shipped v1 policy: policy is data, and so are the apps.
var appA, appB = seedApps()

func seedApps() (events.App, events.App) {
	b, err := policies.Read("v1-2020-cross-app.json")
	if err != nil {
		panic("bench: the shipped v1 policy is missing: " + err.Error())
	}
	p, err := aggregate.ParsePolicy(b)
	if err != nil || len(p.Links) == 0 {
		panic("bench: the shipped v1 policy has no link")
	}
	return events.App(p.Links[0].From), events.App(p.Links[0].To)
}
