package admission

import (
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/identity"
)

// budgets are the per-principal limits of one class of request (commands
// or queries): a token bucket and a count in flight for each principal seen
// lately, in an LRU bounded by PrincipalLimits.Principals so that the table
// cannot grow with the principals that ever called.
type budgets struct {
	class  string // "commands" or "queries", for the refusal's sentence
	limits map[identity.Kind]Limit
	table  *lru.Cache[string, *budget]
	log    *slog.Logger // says what was shed (shedlog.go); nil: nothing
}

// budget is one principal's allowance of one class of request.
type budget struct {
	bucket   *rate.Limiter // nil: no rate limit
	inFlight atomic.Int64
	limit    Limit
	shed     shedCount
}

func newBudgets(class string, l PrincipalLimits, pick func(KindLimits) Limit) *budgets {
	table, err := lru.New[string, *budget](l.Principals)
	if err != nil {
		panic(err) // only for a size below 1, which EnsureDefaults rules out
	}
	return &budgets{class: class, table: table, limits: map[identity.Kind]Limit{
		identity.KindUser: pick(l.User), identity.KindApp: pick(l.App),
		identity.KindAdmin: pick(l.Admin), identity.KindSelfDeclared: pick(l.Development),
	}}
}

// take counts one request of p (on connection conn) against its budget and
// returns the budget, to be given back with done once answered. It refuses
// with ErrTooManyRequests a request beyond the principal's in-flight limit
// or beyond its bucket, then with the wait after which the bucket holds a
// token again (a refused request takes none). The service's own requests
// have no budget: take returns nil.
func (b *budgets) take(p identity.Principal, conn string) (*budget, error) {
	lim, ok := b.limits[p.Kind]
	if !ok {
		return nil, nil
	}
	key := p.String()
	if p.Kind == identity.KindSelfDeclared {
		key = conn // anyone may claim anything: the connection is who
	}
	bg := b.lookup(key, lim)
	if n := bg.inFlight.Add(1); lim.InFlight > 0 && n > int64(lim.InFlight) {
		bg.inFlight.Add(-1)
		return nil, b.refuse(bg, p, fmt.Errorf("%w: %s has %d %s in flight, the most one %s may; retry once one is answered",
			ErrTooManyRequests, who(p), lim.InFlight, b.class, kindName(p.Kind)))
	}
	if bg.bucket == nil {
		return bg, nil
	}
	now := time.Now()
	r := bg.bucket.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		bg.inFlight.Add(-1)
		return nil, b.refuse(bg, p, &rateRefusal{who: who(p), class: b.class, kind: p.Kind, limit: lim, wait: wait})
	}
	return bg, nil
}

// refuse counts err, a refusal of p's request, in bg and logs the count
// when a line is due; it returns err.
func (b *budgets) refuse(bg *budget, p identity.Principal, err error) error {
	logShed(b.log, p, b.class, bg.shed.add(time.Now()), err)
	return err
}

// lookup is key's budget, made with lim if it has none.
func (b *budgets) lookup(key string, lim Limit) *budget {
	if bg, ok := b.table.Get(key); ok {
		return bg
	}
	bg := &budget{limit: lim}
	if lim.Rate > 0 {
		bg.bucket = rate.NewLimiter(rate.Limit(lim.Rate), max(lim.Burst, 1))
	}
	if prev, found, _ := b.table.PeekOrAdd(key, bg); found {
		return prev
	}
	return bg
}

// done gives back a request's place in flight; nil (no budget) is fine.
func (bg *budget) done() {
	if bg != nil {
		bg.inFlight.Add(-1)
	}
}

// rateRefusal is a request refused because its principal's bucket is
// empty: it says for how long.
type rateRefusal struct {
	who, class string
	kind       identity.Kind
	limit      Limit
	wait       time.Duration
}

func (e *rateRefusal) Error() string {
	return fmt.Sprintf("%v: %s sent %s faster than one %s may (%g a second, bursts of %d); retry in %dms (%s header)",
		ErrTooManyRequests, e.who, e.class, kindName(e.kind), e.limit.Rate, e.limit.Burst, e.waitMillis(), api.RetryAfterHeader)
}

// waitMillis is the wait in whole milliseconds, rounded up, so that a
// client that waits them finds a token.
func (e *rateRefusal) waitMillis() int64 {
	return int64(math.Ceil(float64(e.wait) / float64(time.Millisecond)))
}

func (e *rateRefusal) Unwrap() error { return ErrTooManyRequests }

// RetryAfter is the header value for err's wait: "" unless err is a
// rateRefusal.
func RetryAfter(err error) string {
	e, ok := err.(*rateRefusal)
	if !ok {
		return ""
	}
	return strconv.FormatInt(e.waitMillis(), 10)
}

// who names p in a refusal: its principal, or "this connection" in
// development mode.
func who(p identity.Principal) string {
	if p.Kind == identity.KindSelfDeclared {
		return "this connection"
	}
	return p.String()
}

func kindName(k identity.Kind) string {
	switch k {
	case identity.KindUser:
		return "end user"
	case identity.KindApp:
		return "app"
	case identity.KindAdmin:
		return "admin"
	}
	return "connection"
}
