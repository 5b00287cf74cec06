package admission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/identity"
)

// serve's --limit sets one limit; empty numbers take the default, -1 none.
func TestPrincipalLimitsSet(t *testing.T) {
	var l PrincipalLimits
	for _, spec := range []string{"user.commands=5/10/2", "app.queries=-1//", "development.commands=//-1"} {
		if err := l.Set(spec); err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
	}
	l.EnsureDefaults()
	def := DefaultLimits()
	if got := l.User.Commands; got != (Limit{Rate: 5, Burst: 10, InFlight: 2}) {
		t.Errorf("user.commands: %+v", got)
	}
	if got := l.App.Queries; got.Rate != -1 || got.Burst != def.App.Queries.Burst {
		t.Errorf("app.queries: %+v, want no rate and the default burst", got)
	}
	if got := l.Development.Commands; got.InFlight != -1 || got.Rate != def.App.Commands.Rate {
		t.Errorf("development.commands: %+v, want no in-flight limit and the app's rate", got)
	}
	for _, bad := range []string{"user.commands", "user.commands=1/2", "bot.commands=1/2/3", "user.events=1/2/3", "user.commands=x//", "user.commands=NaN//"} {
		if err := l.Set(bad); !errors.Is(err, ErrBadLimit) {
			t.Errorf("%q: %v, want ErrBadLimit", bad, err)
		}
	}
}

func testBudgets(l PrincipalLimits) *budgets {
	l.EnsureDefaults()
	return newBudgets("commands", l, func(k KindLimits) Limit { return k.Commands })
}

// A principal's in-flight limit refuses at once, without a wait; its
// bucket refuses with one; the service itself has no budget.
func TestBudgetTake(t *testing.T) {
	b := testBudgets(PrincipalLimits{User: KindLimits{Commands: Limit{Rate: 1, Burst: 3, InFlight: 2}}})
	alice := identity.Principal{Kind: identity.KindUser, Account: "instagram", User: "instagram:alice"}
	first, err1 := b.take(alice, "c1")
	_, err2 := b.take(alice, "c2") // another connection, the same principal
	_, err3 := b.take(alice, "c3")
	if err1 != nil || err2 != nil || !errors.Is(err3, ErrTooManyRequests) || RetryAfter(err3) != "" {
		t.Fatalf("in flight: %v, %v, then %v (wait %q), want the third refused without a wait", err1, err2, err3, RetryAfter(err3))
	}
	first.done()
	if _, err := b.take(alice, "c1"); err != nil {
		t.Fatalf("third of the burst, once one was answered: %v", err)
	}
	first.done()
	first.done()
	_, err := b.take(alice, "c1")
	if wait, _ := strconv.Atoi(RetryAfter(err)); !errors.Is(err, ErrTooManyRequests) || wait < 900 || wait > 1000 {
		t.Fatalf("beyond the burst: %v, wait %dms, want about a second at 1/s", err, wait)
	}
	if bg, err := b.take(identity.Principal{Kind: identity.KindService}, ""); bg != nil || err != nil {
		t.Errorf("the service: %v, %v, want no budget", bg, err)
	}
}

// The table keeps at most Principals budgets, however many principals call.
func TestBudgetsBounded(t *testing.T) {
	b := testBudgets(PrincipalLimits{Principals: 100})
	for i := range 10_000 {
		bg, err := b.take(identity.Principal{Kind: identity.KindUser, Account: "a", User: fmt.Sprintf("a:u%d", i)}, "")
		if err != nil {
			t.Fatal(err)
		}
		bg.done()
	}
	if n := b.table.Len(); n != 100 {
		t.Errorf("%d budgets kept, want 100", n)
	}
}

// In development mode the connection is who a budget belongs to.
func TestBudgetsByConnectionInDevelopment(t *testing.T) {
	b := testBudgets(PrincipalLimits{Development: KindLimits{Commands: Limit{Rate: 1, Burst: 1, InFlight: 5}}})
	if _, err := b.take(identity.SelfDeclared, "_INBOX.a"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.take(identity.SelfDeclared, "_INBOX.b"); err != nil {
		t.Fatalf("another connection: %v", err)
	}
	if _, err := b.take(identity.SelfDeclared, "_INBOX.a"); !errors.Is(err, ErrTooManyRequests) {
		t.Fatalf("the first connection again: %v, want refused", err)
	}
}

// What a request pays for its principal's budget: the lookup, a token and
// the count in flight. cmd_send's cpu/op is a few hundred µs.
func BenchmarkBudgetTake(b *testing.B) {
	bs := testBudgets(PrincipalLimits{App: KindLimits{Commands: Limit{Rate: 1e9, Burst: 1e9, InFlight: 1 << 20}}})
	app := identity.Principal{Kind: identity.KindApp, Account: "instagram", User: "instagram-backend"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bg, err := bs.take(app, "")
			if err != nil {
				b.Fatal(err)
			}
			bg.done()
		}
	})
}

// The log says who was shed and how much, once per shedLogEvery per
// principal: a flood of refusals is no flood of lines.
func TestBudgetShedLog(t *testing.T) {
	var buf bytes.Buffer
	b := testBudgets(PrincipalLimits{User: KindLimits{Commands: Limit{Rate: 1, Burst: 1, InFlight: 100}}})
	b.log = slog.New(slog.NewJSONHandler(&buf, nil))
	bob := identity.Principal{Kind: identity.KindUser, Account: "instagram", User: "instagram:bob"}
	refused := 0
	for range 50 {
		if _, err := b.take(bob, "c1"); err != nil {
			refused++
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if refused < 40 || len(lines) != 1 {
		t.Fatalf("%d refused, %d lines, want ≥ 40 and 1:\n%s", refused, len(lines), buf.String())
	}
	var line struct {
		Principal string `json:"principal"`
		Class     string `json:"class"`
		Refused   int64  `json:"refused"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	if line.Principal != bob.String() || line.Class != "commands" || line.Refused != 1 {
		t.Errorf("first line %+v, want bob's commands, 1 refused (the first refusal is said at once)", line)
	}
	var c shedCount
	start := time.Now()
	c.add(start)
	for i := range 9 {
		if n := c.add(start.Add(time.Duration(i) * time.Second)); n != 0 {
			t.Fatalf("a line %v after the last: %d", time.Duration(i)*time.Second, n)
		}
	}
	if n := c.add(start.Add(shedLogEvery)); n != 10 {
		t.Errorf("after %v: %d to log, want the 10 refused since the last line", shedLogEvery, n)
	}
}
