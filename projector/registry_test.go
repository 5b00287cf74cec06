package projector

import (
	"reflect"
	"strings"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

var subjectKinds = []events.SubjectKind{events.SubjectConversation, events.SubjectAccount, events.SubjectPolicy}

// Every registered type decodes, on a subject of its kind only, into its
// payload type.
func TestDecodesEveryRegisteredType(t *testing.T) {
	for _, info := range events.Registry {
		m, err := testkit.SampleMessage(info.Type, 1)
		if err != nil {
			t.Fatal(err)
		}
		d, err := decodeMessage(m)
		if err != nil {
			t.Errorf("%s: %v", info.Type, err)
			continue
		}
		if reflect.TypeOf(d.data) != reflect.TypeOf(info.New()) || d.kind != info.Subject {
			t.Errorf("%s decoded as a %T on a subject of kind %d", info.Type, d.data, d.kind)
		}
		for _, k := range subjectKinds {
			if k == info.Subject {
				continue
			}
			m.Subject, _ = testkit.SampleSubject(k)
			if _, err := decodeMessage(m); err == nil {
				t.Errorf("%s is accepted on subject %s", info.Type, m.Subject)
			}
		}
	}
}

// A sample of every registered type applies, after the events it needs
// (a conversation started, a message sent), without poison or skip.
func TestAppliesEveryRegisteredType(t *testing.T) {
	for _, info := range events.Registry {
		t.Run(string(info.Type), func(t *testing.T) {
			var logs testkit.LockedBuffer
			s := openStoreIn(t, t.TempDir(), logs.Logger())
			var msgs []events.Message
			for _, typ := range append(testkit.SampleSetup(info), info.Type) {
				m, err := testkit.SampleMessage(typ, uint64(len(msgs)+1))
				if err != nil {
					t.Fatal(err)
				}
				msgs = append(msgs, m)
			}
			mustApply(t, s, msgs)
			if p, err := s.Poisoned(); err != nil || len(p) != 0 {
				t.Errorf("Poisoned = %+v, %v", p, err)
			}
			if strings.Contains(logs.String(), "skips") {
				t.Errorf("the projector skipped a sample:\n%s", logs.String())
			}
			if got := s.Checkpoint(); got != uint64(len(msgs)) {
				t.Errorf("checkpoint %d after %d messages", got, len(msgs))
			}
		})
	}
}
