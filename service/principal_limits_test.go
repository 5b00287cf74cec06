package service_test

import (
	"encoding/json"
	"fmt"
	"github.com/crosstalk-dev/crosstalk/admission"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// floodResult counts what a flood of one principal got.
type floodResult struct {
	accepted, refused int
	// waits are the Crosstalk-Retry-After-Ms of the refusals that had one,
	// and sentence the last such refusal's message.
	waits    []time.Duration
	sentence string
	other    []string // anything but 200 and 429
}

// flood sends body() to subject from nc with inFlight requests in flight
// for d, as a script would.
func flood(nc *nats.Conn, subject string, body func() []byte, inFlight int, d time.Duration) floodResult {
	var (
		mu  sync.Mutex
		res floodResult
		wg  sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	for range inFlight {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				m, err := nc.Request(subject, body(), 5*time.Second)
				mu.Lock()
				res.count(m, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return res
}

func (r *floodResult) count(m *nats.Msg, err error) {
	switch {
	case err != nil:
		r.other = append(r.other, err.Error())
	case m.Header.Get(micro.ErrorCodeHeader) == "":
		r.accepted++
	case m.Header.Get(micro.ErrorCodeHeader) == "429":
		r.refused++
		if h := m.Header.Get(api.RetryAfterHeader); h != "" {
			ms, _ := strconv.Atoi(h)
			r.waits = append(r.waits, time.Duration(ms)*time.Millisecond)
			var b api.ErrorBody
			_ = json.Unmarshal(m.Data, &b)
			r.sentence = b.Error.Message
		}
	default:
		r.other = append(r.other, string(m.Data))
	}
}

func presenceBody(actor string) func() []byte {
	return func() []byte {
		return fmt.Appendf(nil, `{"command_id":%q,"actor":%q,"status":"active"}`, uuid.NewString(), actor)
	}
}

func inboxBody(account string) func() []byte {
	return func() []byte { return fmt.Appendf(nil, `{"account":%q}`, account) }
}

// steady sends n requests from nc one after the other, every gap, and
// returns their latencies; it fails t on any refusal.
func steady(t *testing.T, nc *nats.Conn, who, subject string, body func() []byte, n int, gap time.Duration) []time.Duration {
	t.Helper()
	var lat []time.Duration
	for i := range n {
		start := time.Now()
		m, err := nc.Request(subject, body(), 5*time.Second)
		lat = append(lat, time.Since(start))
		if err != nil {
			t.Errorf("%s's request %d on %s: %v", who, i, subject, err)
		} else if status := m.Header.Get(micro.ErrorCodeHeader); status != "" {
			t.Errorf("%s's request %d on %s refused: %s %s", who, i, subject, status, m.Data)
		}
		time.Sleep(gap)
	}
	return lat
}

// during runs flood in the background while fn runs, and returns the
// flood's result.
func during(f func() floodResult, fn func()) floodResult {
	done := make(chan floodResult, 1)
	go func() { done <- f() }()
	fn()
	return <-done
}

// igZoeCred is a second end user of instagram, beside alice.
var igZoeCred = natsconf.Credential{Principal: string(igZoe), Kind: "user", Account: "instagram",
	User: string(igZoe), Password: "zoe-password-for-tests", InboxPrefix: natsconf.InboxPrefix("user", string(igZoe))}

// Issue 22: one end user sending presence.set from one connection with 64
// in flight was never refused. Under the default limits it is refused 429
// past its burst, told how long to wait, while another end user of the
// same app and the app's backend are served: the backend well past an end
// user's rate.
func TestPrincipalLimitsRefuseAFlood(t *testing.T) {
	w := newIDWorldWith(t, igZoeCred)
	user := admission.DefaultLimits().User.Commands
	alice, zoe := w.conn(t, string(igAlice)).nc, w.conn(t, string(igZoe)).nc
	subject := "crosstalk.cmd.instagram.presence.set"
	const d = 2 * time.Second
	var zoeLat []time.Duration
	res := during(func() floodResult { return flood(alice, subject, presenceBody(string(igAlice)), 64, d) }, func() {
		time.Sleep(100 * time.Millisecond)
		zoeLat = steady(t, zoe, "zoe", subject, presenceBody(string(igZoe)), 10, 100*time.Millisecond)
	})
	t.Logf("alice's flood: %d accepted, %d refused (%d saying how long to wait); zoe's latencies %v",
		res.accepted, res.refused, len(res.waits), zoeLat)
	if len(res.other) > 0 {
		t.Fatalf("flood answered other than 200 or 429: %v", res.other[:min(3, len(res.other))])
	}
	if most := user.Burst + int(user.Rate*(d+time.Second).Seconds()); res.accepted > most {
		t.Errorf("alice's flood: %d accepted in %s, want at most her burst and rate allow, %d", res.accepted, d, most)
	}
	if len(res.waits) == 0 || !strings.Contains(res.sentence, "retry in") {
		t.Fatalf("no refusal said how long to wait (%s header and sentence); last: %q", api.RetryAfterHeader, res.sentence)
	}
	if wait := slices.Max(res.waits); wait <= 0 || wait > time.Second {
		t.Errorf("longest wait %s: want a token's worth at %g/s", wait, user.Rate)
	}
	if slowest := slices.Max(zoeLat); slowest > time.Second {
		t.Errorf("zoe's slowest command during alice's flood took %s", slowest)
	}
	// Once she waits what she was told, alice is served again.
	time.Sleep(slices.Max(res.waits))
	steady(t, alice, "alice", subject, presenceBody(string(igAlice)), 1, 0)

	// The app's backend acts for all its users: it is not held to one's rate.
	app := w.conn(t, "instagram").nc
	start := time.Now()
	appRes := flood(app, subject, presenceBody(string(igAlice)), 16, 2*time.Second)
	if appRes.refused > 0 || len(appRes.other) > 0 || appRes.accepted == 0 {
		t.Fatalf("the app's backend: %d accepted, %d refused, others %v", appRes.accepted, appRes.refused, appRes.other)
	}
	if userMost := user.Burst + int(user.Rate*time.Since(start).Seconds()); appRes.accepted <= userMost {
		t.Errorf("the app's backend sent %d, no more than an end user may (%d): the test shows nothing", appRes.accepted, userMost)
	}
}

// Commands and queries have budgets apart: an end user flooding queries
// is refused queries and still served commands, and the other way round.
func TestPrincipalLimitsKeepCommandsApartFromQueries(t *testing.T) {
	w := newIDWorldWith(t, igZoeCred)
	const d = 2 * time.Second
	cmdSubject, inbox := "crosstalk.cmd.instagram.presence.set", "crosstalk.query.inbox"
	alice, zoe := w.conn(t, string(igAlice)).nc, w.conn(t, string(igZoe)).nc
	// alice has an inbox to read once she has an event.
	steady(t, alice, "alice", cmdSubject, presenceBody(string(igAlice)), 1, 0)

	queries := during(func() floodResult { return flood(alice, inbox, inboxBody(string(igAlice)), 64, d) }, func() {
		time.Sleep(300 * time.Millisecond)
		steady(t, alice, "alice (commands, during her query flood)", cmdSubject, presenceBody(string(igAlice)), 10, 100*time.Millisecond)
	})
	t.Logf("alice's query flood: %d accepted, %d refused", queries.accepted, queries.refused)
	if len(queries.waits) == 0 {
		t.Errorf("alice's query flood: %d accepted, none refused saying how long to wait", queries.accepted)
	}

	commands := during(func() floodResult { return flood(zoe, cmdSubject, presenceBody(string(igZoe)), 64, d) }, func() {
		time.Sleep(300 * time.Millisecond)
		steady(t, zoe, "zoe (queries, during her command flood)", inbox, inboxBody(string(igZoe)), 10, 100*time.Millisecond)
	})
	t.Logf("zoe's command flood: %d accepted, %d refused", commands.accepted, commands.refused)
	if len(commands.waits) == 0 {
		t.Errorf("zoe's command flood: %d accepted, none refused saying how long to wait", commands.accepted)
	}
}
