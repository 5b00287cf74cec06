package crashtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
)

// commandDeadline bounds how long a producer keeps retrying one command.
// Retrying for longer would outlast the stream's duplicate window (2m).
const commandDeadline = 90 * time.Second

// retryable reports whether a producer should send the same command again:
// no reply at all (timeout, no responders, connection lost), a server
// failure (5xx, whose outcome is unknown), or 409 conflict ("retry the
// command"). Every other error reply is the command's final answer.
func retryable(err error) bool {
	var e *client.Error
	if !errors.As(err, &e) {
		return true
	}
	return strings.HasPrefix(e.Status, "5") || e.Code == "conflict"
}

// slotState is what the producers know of one conversation.
type slotState int

const (
	unstarted slotState = iota
	starting            // a producer is starting it
	open
	closed  // sends are refused (closed, or the policy denies its apps)
	refused // its start was refused
)

// slot is one conversation of the load, between accounts a and b.
type slot struct {
	a, b     events.Account
	crossApp bool

	mu       sync.Mutex
	state    slotState
	id       string
	lastMsg  string
	lastFrom events.Account
	lastRead string // the last message a read was sent for
}

// ack is a success reply and how many attempts it took.
type ack struct {
	reply    api.CommandReply
	action   string
	conv     string // the conversation the producer named, if it did
	attempts int
	crossApp bool // a conversation.start across apps
}

// command is one command a producer sends, retrying, until it gets an
// answer; done runs with the success reply, or with the final error.
type command struct {
	app    events.App
	action string
	body   map[string]any
	done   func(r api.CommandReply, err error)
}

// load is the producers' shared model of the conversations and the record
// of every answer they got.
type load struct {
	slots     []*slot
	completed atomic.Int64 // commands answered, successfully or not
	stop      atomic.Bool

	mu         sync.Mutex
	acked      map[string]ack    // command id -> success reply
	refused    map[string]string // command id -> final error code
	codes      map[string]int    // final error code -> count
	samples    map[string]string // final error code -> one action and message
	retries    int               // attempts beyond each command's first
	retriedIDs int               // commands sent more than once
	duplicates int               // success replies marked duplicate
	failures   []string          // commands that never got an answer
}

func newLoad(conversations, accountsPerApp int, rng *rand.Rand) *load {
	l := &load{acked: map[string]ack{}, refused: map[string]string{}, codes: map[string]int{}, samples: map[string]string{}}
	for i := range conversations {
		s := &slot{a: account("instagram", rng.IntN(accountsPerApp))}
		s.crossApp = i%2 == 0
		app := "instagram"
		if s.crossApp {
			app = "messenger"
		}
		for s.b = account(app, rng.IntN(accountsPerApp)); s.b == s.a; {
			s.b = account(app, rng.IntN(accountsPerApp))
		}
		l.slots = append(l.slots, s)
	}
	return l
}

func account(app string, n int) events.Account {
	return events.Account(fmt.Sprintf("%s:user%d", app, n))
}

// produce sends commands until stop is set.
func (l *load) produce(ctx context.Context, c *client.Client, rng *rand.Rand, timeout time.Duration) {
	for !l.stop.Load() && ctx.Err() == nil {
		l.send(ctx, c, l.next(rng), rng, timeout)
	}
}

// send sends cmd under a fresh command id, and the same id again after
// every error that is not a final answer, as a real producer would.
func (l *load) send(ctx context.Context, c *client.Client, cmd command, rng *rand.Rand, timeout time.Duration) {
	id := uuid.NewString()
	cmd.body["command_id"] = id
	deadline := time.Now().Add(commandDeadline)
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		r, err := c.Command(rctx, string(cmd.app), cmd.action, cmd.body)
		cancel()
		if err == nil || !retryable(err) {
			l.record(id, cmd, r, err, attempt)
			cmd.done(r, err)
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			l.fail(fmt.Sprintf("%s %s got no answer in %d attempts: %v", cmd.action, id, attempt, err))
			cmd.done(r, err)
			return
		}
		time.Sleep(time.Duration(5+rng.IntN(45)) * time.Millisecond)
	}
}

func (l *load) record(id string, cmd command, r api.CommandReply, err error, attempts int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if attempts > 1 {
		l.retries += attempts - 1
		l.retriedIDs++
	}
	if err != nil {
		code := client.CodeOf(err)
		l.refused[id] = code
		l.codes[code]++
		if _, ok := l.samples[code]; !ok {
			l.samples[code] = cmd.action + ": " + err.Error()
		}
	} else {
		cross := cmd.action == "conversation.start" && isCrossStart(cmd)
		conv, _ := cmd.body["conversation_id"].(string)
		l.acked[id] = ack{reply: r, action: cmd.action, conv: conv, attempts: attempts, crossApp: cross}
		if r.Duplicate {
			l.duplicates++
		}
	}
	l.completed.Add(1)
}

// isCrossStart reports whether cmd starts a conversation across apps.
func isCrossStart(cmd command) bool {
	ps, _ := cmd.body["participants"].([]events.Account)
	actor, _ := cmd.body["actor"].(events.Account)
	for _, p := range ps {
		if p.App() != actor.App() {
			return true
		}
	}
	return false
}

func (l *load) fail(msg string) {
	l.mu.Lock()
	l.failures = append(l.failures, msg)
	l.mu.Unlock()
}

// next picks the next command: start a conversation nobody started yet, or
// act in a started one.
func (l *load) next(rng *rand.Rand) command {
	for range 50 {
		s := l.slots[rng.IntN(len(l.slots))]
		s.mu.Lock()
		cmd, ok := s.command(rng)
		s.mu.Unlock()
		if ok {
			return cmd
		}
	}
	return presence(account("instagram", 0), rng)
}

// command builds a command on s, whose lock the caller holds.
func (s *slot) command(rng *rand.Rand) (command, bool) {
	switch s.state {
	case unstarted:
		s.state = starting
		return s.start(rng), true
	case open:
		return s.act(rng), true
	case closed:
		if s.lastMsg == "" || s.lastRead == s.lastMsg {
			return command{}, false // mostly leave closed conversations alone
		}
		return s.read(), true
	}
	return command{}, false
}

// start starts s. A cross-app conversation gets an id from the producer; a
// same-app one half of the time lets the server derive it from the command,
// so a retry after a crash is caught by the stream's duplicate window.
func (s *slot) start(rng *rand.Rand) command {
	body := map[string]any{"actor": s.a, "participants": []events.Account{s.b}}
	want := ""
	if s.crossApp || rng.IntN(2) == 0 {
		want = uuid.NewString()
		body["conversation_id"] = want
	}
	return command{app: s.a.App(), action: "conversation.start", body: body, done: func(r api.CommandReply, err error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case err != nil:
			s.state = refused
		case want != "" && r.ConversationID != want:
			s.state = refused // checkAcked reports it
		default:
			s.state, s.id = open, r.ConversationID
		}
	}}
}

// act sends, reads, reacts, edits or sets presence in an open conversation.
func (s *slot) act(rng *rand.Rand) command {
	actor := s.a
	if rng.IntN(2) == 0 {
		actor = s.b
	}
	n := rng.IntN(100)
	switch {
	case n < 55 || s.lastMsg == "":
		return s.send(actor, rng)
	case n < 60 && s.lastRead != s.lastMsg:
		return s.read()
	case n < 60:
		return s.send(actor, rng)
	case n < 75:
		body := s.body(actor)
		body["message_id"] = s.lastMsg
		body["reaction"] = []string{"❤️", "👍", "😂", ""}[rng.IntN(4)]
		return command{app: actor.App(), action: "message.react", body: body, done: s.refusedCloses}
	case n < 85:
		body := s.body(s.lastFrom)
		body["message_id"] = s.lastMsg
		body["text"] = fmt.Sprintf("edited %d", rng.IntN(1000))
		return command{app: s.lastFrom.App(), action: "message.edit", body: body, done: s.refusedCloses}
	}
	return presence(actor, rng)
}

func (s *slot) body(actor events.Account) map[string]any {
	return map[string]any{"actor": actor, "conversation_id": s.id}
}

func (s *slot) send(actor events.Account, rng *rand.Rand) command {
	body := s.body(actor)
	body["text"] = fmt.Sprintf("message %d", rng.IntN(1_000_000))
	if rng.IntN(2) == 0 {
		body["message_id"] = uuid.NewString()
	}
	return command{app: actor.App(), action: "message.send", body: body, done: func(r api.CommandReply, err error) {
		if err == nil {
			s.mu.Lock()
			s.lastMsg, s.lastFrom = r.MessageID, actor
			s.mu.Unlock()
			return
		}
		s.refusedCloses(r, err)
	}}
}

// read marks the last message read by the participant who did not send it.
func (s *slot) read() command {
	s.lastRead = s.lastMsg
	reader := s.a
	if s.lastFrom == s.a {
		reader = s.b
	}
	body := s.body(reader)
	body["message_id"] = s.lastMsg
	return command{app: reader.App(), action: "message.read", body: body, done: func(api.CommandReply, error) {}}
}

// refusedCloses marks s closed when the command was refused because the
// conversation no longer takes messages.
func (s *slot) refusedCloses(_ api.CommandReply, err error) {
	switch client.CodeOf(err) {
	case "conversation_closed", "cross_app_not_allowed":
		s.mu.Lock()
		s.state = closed
		s.mu.Unlock()
	}
}

func presence(actor events.Account, rng *rand.Rand) command {
	status := []string{events.StatusActive, events.StatusIdle, events.StatusOffline}[rng.IntN(3)]
	return command{app: actor.App(), action: "presence.set", body: map[string]any{"actor": actor, "status": status},
		done: func(api.CommandReply, error) {}}
}

// figures summarises the answers for the test log.
func (l *load) figures() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	codes := make([]string, 0, len(l.codes))
	for c, n := range l.codes {
		codes = append(codes, fmt.Sprintf("%s=%d", c, n))
	}
	sort.Strings(codes)
	return fmt.Sprintf("%d commands acked (%d answered as duplicates), %d refused (%s), %d commands retried with %d extra attempts",
		len(l.acked), l.duplicates, len(l.refused), strings.Join(codes, " "), l.retriedIDs, l.retries)
}

// publish publishes a policy document under a fresh command id, retrying
// like send, and records its answer with the commands'.
func (l *load) publish(ctx context.Context, c *client.Client, doc []byte, timeout time.Duration) (api.PublishReply, error) {
	id := uuid.NewString()
	deadline := time.Now().Add(commandDeadline)
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		r, err := c.PublishPolicy(rctx, id, doc)
		cancel()
		if err == nil {
			reply := api.CommandReply{EventID: r.EventID, StreamSeq: r.StreamSeq, Duplicate: r.Duplicate}
			l.record(id, command{action: "policy.publish"}, reply, nil, attempt)
			return r, nil
		}
		if !retryable(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return r, fmt.Errorf("publish policy (%d attempts): %w", attempt, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
