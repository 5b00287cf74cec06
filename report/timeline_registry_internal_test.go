package report

import (
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// The timeline renders every registered type: its entry has the type, the
// payload's actor and a change line (changeOf has a case for it).
func TestTimelineDescribesEveryRegisteredType(t *testing.T) {
	for _, info := range events.Registry {
		m, err := testkit.SampleMessage(info.Type, 7)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := testkit.SamplePayload(info.Type)
		en := entryOf(m)
		if en.Type != info.Type || en.Seq != 7 || en.EventID == "" {
			t.Errorf("%s: entry %+v", info.Type, en)
		}
		if en.Actor == "" || en.Actor != p.Actor() {
			t.Errorf("%s: actor %q, the payload says %q", info.Type, en.Actor, p.Actor())
		}
		if en.Change == "" {
			t.Errorf("%s: no change line: changeOf has no case for %T", info.Type, info.New())
		}
	}
}
