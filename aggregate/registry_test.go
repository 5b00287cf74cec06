package aggregate

import (
	"reflect"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// viewOnly are the registered types that change views, not decisions: the
// aggregate of their subject kind counts them and folds nothing else. Every
// other registered type must change its aggregate's state.
var viewOnly = map[events.Type]bool{
	events.MessageEdited:  true,
	events.MessageReacted: true,
}

// stateful is an aggregate as the service drives it.
type stateful interface {
	Evolve(events.Recorded) error
}

// aggregateOf returns a fresh aggregate of the kind of subject a type is
// stored on, and its Stream.
func aggregateOf(t *testing.T, k events.SubjectKind) (stateful, *Stream) {
	switch k {
	case events.SubjectConversation:
		c := NewConversation(testkit.SampleConversation)
		return c, &c.Stream
	case events.SubjectAccount:
		a := NewAccount(testkit.SampleSender)
		return a, &a.Stream
	case events.SubjectPolicy:
		ps := &Policies{}
		return ps, &ps.Stream
	}
	t.Fatalf("no aggregate for subject kind %d", k)
	return nil, nil
}

// Every registered type evolves the aggregate of its subject kind: the
// event is counted, and its state changes unless viewOnly says the type
// changes views only. A type the aggregate's Evolve has no case for fails.
func TestEvolvesEveryRegisteredType(t *testing.T) {
	for _, info := range events.Registry {
		setup := testkit.SampleSetup(info)
		before, beforeStream := aggregateOf(t, info.Subject)
		after, afterStream := aggregateOf(t, info.Subject)
		for i, typ := range setup {
			evolve(t, before, typ, uint64(i+1))
			evolve(t, after, typ, uint64(i+1))
		}
		evolve(t, after, info.Type, uint64(len(setup)+1))
		if afterStream.Version != beforeStream.Version+1 {
			t.Errorf("%s: version %d after %d", info.Type, afterStream.Version, beforeStream.Version)
		}
		*afterStream = *beforeStream // compare the states, not the positions
		changed := !reflect.DeepEqual(before, after)
		switch {
		case !changed && !viewOnly[info.Type]:
			t.Errorf("%s changes nothing in its aggregate: handle it in Evolve, or list it in viewOnly", info.Type)
		case changed && viewOnly[info.Type]:
			t.Errorf("%s is listed in viewOnly but changes its aggregate", info.Type)
		}
	}
}

func evolve(t *testing.T, s stateful, typ events.Type, seq uint64) {
	t.Helper()
	r, err := testkit.SampleRecorded(typ, seq)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Evolve(r); err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
}
