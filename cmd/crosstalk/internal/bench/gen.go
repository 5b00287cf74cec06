package bench

import (
	"fmt"
	"strings"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// generator makes valid crosstalk events without the service, fast: each is
// built as the aggregates build theirs (envelope, an id derived from the
// command and the subject, the subject's stream version and the hash of its
// previous stored event), so the projector and an audit accept them.
type generator struct {
	now    time.Time
	tick   time.Duration
	text   string
	policy uint64
	chains map[string]*chain
}

// chain is a subject's position: events so far and the last one's hash.
type chain struct {
	version uint64
	hash    string
}

// generated is one event ready to store: its subject, its stored bytes and
// the command id that caused it (its Nats-Msg-Id).
type generated struct {
	subject string
	command string
	data    []byte
}

// newGenerator starts generated time at start; each event is tick later than
// the one before. Texts of messages are textSize bytes; policy is the policy
// version events are decided under.
func newGenerator(start time.Time, tick time.Duration, textSize int, policy uint64) *generator {
	return &generator{now: start, tick: tick, text: text(textSize), policy: policy, chains: map[string]*chain{}}
}

// text is n bytes of ordinary message text.
func text(n int) string {
	const words = "the quick brown fox jumps over the lazy dog "
	return strings.Repeat(words, n/len(words)+1)[:n]
}

// start makes a conversation.started event of a new conversation.
func (g *generator) start(by events.Account, others ...events.Account) (string, generated, error) {
	id := events.NewID()
	parts := append([]events.Account{by}, others...)
	cross := false
	for _, p := range others {
		cross = cross || p.App() != by.App()
	}
	ev, err := g.event(events.ConversationSubject(id), id, events.ConversationStarted, events.ConversationStartedData{
		ConversationID: id, StartedBy: by, Participants: parts, CrossApp: cross,
	})
	return id, ev, err
}

// send makes a message.sent event in conversation id.
func (g *generator) send(id string, sender events.Account) (generated, error) {
	return g.event(events.ConversationSubject(id), id, events.MessageSent, func(now time.Time, command string) any {
		return events.MessageSentData{MessageID: events.DerivedID(now, command+"\x00message"), Sender: sender, Text: g.text}
	})
}

// event builds the next event on subject; data is the payload or a function
// of the event's time and command id that returns it.
func (g *generator) event(subject, key string, t events.Type, data any) (generated, error) {
	g.now = g.now.Add(g.tick)
	command := events.NewID()
	if f, ok := data.(func(time.Time, string) any); ok {
		data = f(g.now, command)
	}
	e, err := events.New(t, key, g.now, command, g.policy, data)
	if err != nil {
		return generated{}, err
	}
	c := g.chains[subject]
	if c == nil {
		c = &chain{}
		g.chains[subject] = c
	}
	e.ID = events.DerivedID(g.now, command+"\x00"+key)
	e.StreamVersion = c.version + 1
	e.PrevHash = c.hash
	b, err := events.Encode(e)
	if err != nil {
		return generated{}, fmt.Errorf("encode %s: %w", t, err)
	}
	c.version, c.hash = e.StreamVersion, events.Hash(b)
	return generated{subject: subject, command: command, data: b}, nil
}

// account is the account of app with handle kind-n.
func account(app events.App, kind string, n int) events.Account {
	return events.Account(fmt.Sprintf("%s:%s-%d", app, kind, n))
}
